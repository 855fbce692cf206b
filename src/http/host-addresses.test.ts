import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAddresses, type Address, type ResolveHost } from './host-addresses.js';
import { UndiciTransport } from './transport.js';

const LOOPBACK: Address = { address: '127.0.0.1', family: 4 };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A resolver that counts its lookups and answers from `answers` (an Error is a failed lookup). */
function countingResolver(answers: Record<string, Address | Error>): { resolve: ResolveHost; asked: string[] } {
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    await wait(5);
    const answer = answers[host] ?? Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { resolve, asked };
}

describe('HostAddresses', () => {
  it('looks a host up once, however many ask at once, and answers from the cache after', async () => {
    const { resolve, asked } = countingResolver({ 'register-1.shop': LOOPBACK });
    const hosts = new HostAddresses(resolve);
    const first = await Promise.all(Array.from({ length: 50 }, () => hosts.addressOf('register-1.shop')));
    expect(first.every((a) => a === first[0])).toBe(true);
    expect(hosts.addressOf('register-1.shop')).toEqual(LOOPBACK); // no promise: no wait on the hot path
    expect(asked).toEqual(['register-1.shop']);
  });

  it('serves a stale address while it looks the host up again, and keeps it when that lookup fails', async () => {
    const answers: Record<string, Address | Error> = { 'register-2.shop': LOOPBACK };
    const { resolve, asked } = countingResolver(answers);
    const hosts = new HostAddresses(resolve, 20, 20);
    await hosts.addressOf('register-2.shop');
    await wait(30);
    answers['register-2.shop'] = { address: '127.0.0.2', family: 4 };
    expect(hosts.addressOf('register-2.shop')).toEqual(LOOPBACK);
    await wait(10);
    expect(hosts.addressOf('register-2.shop')).toEqual({ address: '127.0.0.2', family: 4 });
    answers['register-2.shop'] = new Error('resolver down');
    await wait(30);
    expect(hosts.addressOf('register-2.shop')).toEqual({ address: '127.0.0.2', family: 4 });
    await wait(10);
    expect(hosts.addressOf('register-2.shop')).toEqual({ address: '127.0.0.2', family: 4 });
    expect(asked).toHaveLength(3);
  });

  it('remembers a failed lookup for a while, saying which host and why', async () => {
    const { resolve, asked } = countingResolver({});
    const hosts = new HostAddresses(resolve, 1000, 40);
    await expect(hosts.addressOf('gone.shop')).rejects.toThrow('cannot resolve host "gone.shop": ENOTFOUND');
    await expect(hosts.addressOf('gone.shop')).rejects.toThrow('cannot resolve host "gone.shop": ENOTFOUND');
    expect(asked).toEqual(['gone.shop']);
    await wait(50);
    await expect(hosts.addressOf('gone.shop')).rejects.toThrow('ENOTFOUND');
    expect(asked).toEqual(['gone.shop', 'gone.shop']);
  });

  it('keeps at most maxHosts names', async () => {
    const hosts = new HostAddresses(async () => LOOPBACK, 1000, 1000, 3);
    for (const h of ['a', 'b', 'c', 'd', 'e']) await hosts.addressOf(h);
    expect(hosts.size).toBe(3);
  });

  describe('as the transport\'s lookup', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('connects to the address the cache holds, and fails a name that does not resolve with the reason', async () => {
      const { resolve, asked } = countingResolver({ 'register-3.shop': LOOPBACK });
      const hosts = new HostAddresses(resolve);
      const transport = new UndiciTransport({ connectionsPerOrigin: 1, lookup: hosts.lookup });
      const send = (host: string) => transport.send({ method: 'GET', url: `http://${host}:${port}/`, signal: AbortSignal.timeout(2000), maxBytes: 1024, keepAlive: false });
      expect((await send('register-3.shop')).body.toString()).toBe('ok');
      expect((await send('register-3.shop')).body.toString()).toBe('ok'); // a new connection: keepAlive false
      expect(asked).toEqual(['register-3.shop']);
      await expect(send('gone.shop')).rejects.toThrow(/ENOTFOUND/);
      await transport.close();
    });
  });
});
