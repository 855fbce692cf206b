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

/** After the drain's time is up, the scrapes told to answer with what they have get this long to be written. */
export const SHUTDOWN_WRITE_GRACE_MS = 1000;
/** How often connections that have answered their last request are closed while draining. */
const IDLE_CLOSE_EVERY_MS = 100;

/**
 * Go's http.Server.Shutdown: stops accepting connections and closes each one as soon as it has no
 * request in flight. After `timeoutMs`, `hurry` tells the requests still running to answer now;
 * SHUTDOWN_WRITE_GRACE_MS later every connection left is closed. Resolves when none is open.
 */
export function shutdown(server: Server, timeoutMs: number, hurry: () => void): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), IDLE_CLOSE_EVERY_MS);
    const late = setTimeout(hurry, timeoutMs);
    const kill = setTimeout(() => server.closeAllConnections(), timeoutMs + SHUTDOWN_WRITE_GRACE_MS);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(late);
      clearTimeout(kill);
      resolve();
    });
  });
}
