import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

export interface ListenAddress {
  host: string | undefined;
  port: number;
}

/** Prometheus-style `HOST:PORT`; `:PORT` listens on every interface, `[::1]:PORT` on IPv6. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

export async function listen(handler: RequestListener, address: ListenAddress, tls?: ServerOptions): Promise<{ server: Server; url: string }> {
  const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
  // Prometheus may keep a scrape connection open between scrapes.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address === '::' ? '::1' : a.address}]` : a.address === '0.0.0.0' ? 'localhost' : a.address;
  return { server, url: `${tls ? 'https' : 'http'}://${host}:${a.port}` };
}
