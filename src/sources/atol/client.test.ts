import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { mswTransport } from '../../../test/support/msw-transport.js';
import type { AtolSourceConfig } from './config.js';
import { SourceHttp, type RequestObserver } from '../../http/client.js';
import { UndiciTransport, type HttpRequest } from '../../http/transport.js';
import { AuthError, TokenSession } from '../auth.js';
import { AtolClient } from './client.js';

const BASE = 'https://testonline.atol.ru';
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../../test/fixtures/atol/${name}`, import.meta.url), 'utf8'));

const config: AtolSourceConfig = { name: 'atol-cloud', type: 'atol', url: BASE, login: 'neletest', password: 'v2ApscRjr', page_size: 100, page_concurrency: 4, max_registers: 100_000, probe_only: false };

function setup(opts: { expireFirstToken?: boolean; wrongPassword?: boolean } = {}) {
  let issued = 0;
  const valid = new Set<string>();
  const handlers = [
    http.post(`${BASE}/api/auth/v1/gettoken`, async ({ request }) => {
      const body = (await request.json()) as { login: string; pass: string };
      if (opts.wrongPassword || body.pass !== 'v2ApscRjr') return HttpResponse.json(fixture('error-wrong-login.json'), { status: 401 });
      const token = `t${++issued}`;
      valid.add(token);
      return HttpResponse.json({ token, issued: new Date().toISOString(), expiresIn: 1440 });
    }),
    http.get(`${BASE}/api/kkt/v1/cash-registers`, ({ request }) => {
      const token = request.headers.get('Token') ?? '';
      if (opts.expireFirstToken && token === 't1') return HttpResponse.json(fixture('error-expired-token.json'), { status: 401 });
      if (!valid.has(token)) return HttpResponse.json({ status: 401, errorCode: 'MissingToken' }, { status: 401 });
      return HttpResponse.json(fixture('page-example.json'));
    }),
  ];
  const log: HttpRequest[] = [];
  const auths: string[] = [];
  const observer: RequestObserver = { request() {}, rateLimitWait() {}, auth: (_s, result) => auths.push(result) };
  const client = new AtolClient(config, new SourceHttp('atol-cloud', mswTransport(handlers, log), observer), new TokenSession());
  return { client, log, auths };
}

const signal = () => AbortSignal.timeout(5000);

describe('AtolClient through msw handlers', () => {
  it('logs in with POST {login, pass} and sends the token in the Token header with hal+json', async () => {
    const { client, log, auths } = setup();
    const page = await client.page(0, signal());
    expect(page.total).toBe(345);
    expect(page.items).toHaveLength(1);
    expect(log[0]).toMatchObject({ method: 'POST', url: `${BASE}/api/auth/v1/gettoken` });
    expect(JSON.parse(log[0]?.body ?? '{}')).toEqual({ login: 'neletest', pass: 'v2ApscRjr' });
    expect(log[1]).toMatchObject({ method: 'GET', url: `${BASE}/api/kkt/v1/cash-registers?limit=100&offset=0` });
    expect(log[1]?.headers).toMatchObject({ Token: 't1', accept: 'application/hal+json' });
    expect(auths).toEqual(['success']);
  });

  it('reuses the token across calls', async () => {
    const { client, log } = setup();
    for (let i = 0; i < 5; i++) await client.page(0, signal());
    expect(log.filter((r) => r.url.endsWith('/gettoken'))).toHaveLength(1);
  });

  it('on ExpiredToken gets one new token and retries once', async () => {
    const { client, log, auths } = setup({ expireFirstToken: true });
    const page = await client.page(0, signal());
    expect(page.items).toHaveLength(1);
    expect(log.map((r) => `${r.method} ${r.url.replace(BASE, '')} ${r.headers?.Token ?? ''}`.trim())).toEqual([
      'POST /api/auth/v1/gettoken',
      'GET /api/kkt/v1/cash-registers?limit=100&offset=0 t1',
      'POST /api/auth/v1/gettoken',
      'GET /api/kkt/v1/cash-registers?limit=100&offset=0 t2',
    ]);
    expect(auths).toEqual(['success', 'success']);
  });

  it('reports wrong credentials as an AuthError and does not ask again at once', async () => {
    const { client, log, auths } = setup({ wrongPassword: true });
    await expect(client.page(0, signal())).rejects.toSatisfy((e) => e instanceof AuthError && e.result === 'wrong_credentials' && /WrongLoginOrPassword/.test(e.message));
    await expect(client.page(0, signal())).rejects.toBeInstanceOf(AuthError);
    expect(log).toHaveLength(1);
    expect(auths).toEqual(['wrong_credentials']);
  });

  it('a login never outlives the scrape that needs the token', async () => {
    // A real loopback service whose login never answers (msw does not see an abort).
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const observer: RequestObserver = { request() {}, rateLimitWait() {}, auth() {} };
    const client = new AtolClient({ ...config, url }, new SourceHttp('atol-cloud', new UndiciTransport({ connectionsPerOrigin: 1 }), observer), new TokenSession());
    try {
      const t0 = performance.now();
      await expect(client.page(0, AbortSignal.timeout(150))).rejects.toThrow(/login failed/);
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      server.closeAllConnections();
      server.close();
      await client.close();
    }
  });
});
