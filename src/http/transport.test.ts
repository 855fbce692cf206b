import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitUrl, TransportError, UndiciTransport } from './transport.js';

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 120);
      const timer = setInterval(() => res.write(chunk), 1); // a body that never ends
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://127.0.0.2:1/' }).end();
    res.writeHead(200).end(`hello ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const transport = () => new UndiciTransport({ connectionsPerOrigin: 2 });

describe('UndiciTransport', () => {
  it('sends the request and collects the answer', async () => {
    const res = await transport().send({ method: 'GET', url: `${base}/a/b?c=1`, signal: AbortSignal.timeout(2000), maxBytes: 1024 });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello GET /a/b?c=1');
  });

  it('cuts off an endless body at maxBytes instead of buffering it', async () => {
    const err = await transport().send({ method: 'GET', url: `${base}/big`, signal: AbortSignal.timeout(5000), maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).failure).toBe('too_large');
  });

  it('stops at the deadline signal, as a timeout', async () => {
    const t0 = performance.now();
    const err = await transport().send({ method: 'GET', url: `${base}/slow`, signal: AbortSignal.timeout(200), maxBytes: 1024 }).catch((e: unknown) => e);
    expect((err as TransportError).failure).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('aborts every request in flight under a shared signal, and only those', async () => {
    const controller = new AbortController();
    const t = transport();
    const done = await t.send({ method: 'GET', url: `${base}/first`, signal: controller.signal, maxBytes: 1024 });
    expect(done.body.toString()).toBe('hello GET /first');
    const slow = [1, 2].map(() => t.send({ method: 'GET', url: `${base}/slow`, signal: controller.signal, maxBytes: 1024 }).catch((e: unknown) => e));
    setTimeout(() => controller.abort(new Error('scrape deadline reached')), 100);
    const errs = (await Promise.all(slow)) as TransportError[];
    expect(errs.map((e) => [e.failure, e.message])).toEqual([
      ['timeout', 'request aborted: scrape deadline reached'],
      ['timeout', 'request aborted: scrape deadline reached'],
    ]);
  });

  it('reports a refused connection, and never follows a redirect', async () => {
    const refused = await transport().send({ method: 'GET', url: 'http://127.0.0.1:1/', signal: AbortSignal.timeout(2000), maxBytes: 1024 }).catch((e: unknown) => e);
    expect((refused as TransportError).failure).toBe('refused');
    const redirect = await transport().send({ method: 'GET', url: `${base}/redirect`, signal: AbortSignal.timeout(2000), maxBytes: 1024 });
    expect(redirect.status).toBe(302);
  });

  it('keeps no connection for a request sent with keepAlive false (an ad-hoc /probe target)', async () => {
    let connections = 0;
    const count = () => connections++;
    server.on('connection', count);
    try {
      // One connection per origin, as a UKM source keeps.
      const t = new UndiciTransport({ connectionsPerOrigin: 1 });
      const get = (keepAlive?: boolean) => t.send({ method: 'GET', url: `${base}/k`, signal: AbortSignal.timeout(2000), maxBytes: 1024, ...(keepAlive === undefined ? {} : { keepAlive }) });
      await get();
      await get();
      expect(connections).toBe(1);
      const t2 = new UndiciTransport({ connectionsPerOrigin: 1 });
      for (let i = 0; i < 3; i++) await t2.send({ method: 'GET', url: `${base}/k`, signal: AbortSignal.timeout(2000), maxBytes: 1024, keepAlive: false });
      expect(connections).toBe(4);
    } finally {
      server.off('connection', count);
    }
  });
});

describe('splitUrl', () => {
  it.each([
    ['http://10.0.0.1:8080/api/v1/status/paper', 'http://10.0.0.1:8080', '/api/v1/status/paper'],
    ['https://online.atol.ru/api/kkt/v1/cash-registers?limit=100&offset=0', 'https://online.atol.ru', '/api/kkt/v1/cash-registers?limit=100&offset=0'],
    ['http://[::1]:80', 'http://[::1]:80', '/'],
  ])('%s', (url, origin, path) => expect(splitUrl(url)).toEqual({ origin, path }));
});
