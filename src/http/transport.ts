import { readFileSync } from 'node:fs';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { TlsConfig } from '../config/schema.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** The body is cut off, and the request failed, past this many bytes. */
  maxBytes: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The seam between the sources and the network: tests can route it to msw handlers. */
export interface Transport {
  send(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** Why a request got no usable answer; the value of the `code` label of request metrics. */
export type TransportFailure = 'timeout' | 'too_large' | 'refused' | 'reset' | 'error';

export class TransportError extends Error {
  constructor(readonly failure: TransportFailure, message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface TransportOptions {
  /** Connections kept per origin (a UKM register needs one; a cloud API a few for paging). */
  connectionsPerOrigin: number;
  tls?: TlsConfig;
  proxyUrl?: string;
}

function tlsConnectOptions(tls: TlsConfig | undefined): Record<string, unknown> {
  if (!tls) return {};
  return {
    ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
    cert: tls.cert_file ? readFileSync(tls.cert_file) : undefined,
    key: tls.key_file ? readFileSync(tls.key_file) : undefined,
    servername: tls.server_name,
    rejectUnauthorized: !tls.insecure_skip_verify,
  };
}

/** Reads a body into memory, refusing to hold more than `maxBytes` of it. */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      body.destroy();
      throw new TransportError('too_large', `response body larger than ${maxBytes} bytes, cut off`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

export function classifyError(err: unknown, signal: AbortSignal): TransportError {
  if (err instanceof TransportError) return err;
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    return new TransportError('timeout', reason?.message ? `request aborted: ${reason.message}` : 'request timed out');
  }
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code ?? '';
  if (code === 'ECONNREFUSED') return new TransportError('refused', 'connection refused');
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return new TransportError('reset', 'connection reset');
  if (code.includes('TIMEOUT')) return new TransportError('timeout', 'request timed out');
  return new TransportError('error', `${code ? `${code}: ` : ''}${e.message}`);
}

/** undici `request()` through one bounded Agent per source; redirects are never followed. */
export class UndiciTransport implements Transport {
  private readonly dispatcher: Dispatcher;

  constructor(opts: TransportOptions) {
    const connect = tlsConnectOptions(opts.tls);
    const common = { connections: opts.connectionsPerOrigin, keepAliveTimeout: 30_000, pipelining: 1 };
    this.dispatcher = opts.proxyUrl
      ? new ProxyAgent({ uri: opts.proxyUrl, requestTls: connect, ...common })
      : new Agent({ connect, ...common });
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    try {
      const res = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: req.signal,
        dispatcher: this.dispatcher,
      });
      const body = await readCapped(res.body, req.maxBytes);
      return { status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      throw classifyError(err, req.signal);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }
}
