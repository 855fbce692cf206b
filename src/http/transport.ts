import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import type { TlsConfig } from '../config/schema.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** The body is cut off, and the request failed, past this many bytes. */
  maxBytes: number;
  /**
   * Per-request limit on waiting for headers and between body chunks (undici's timers, about 1 s
   * granular). Deadlines that must be exact go through `signal`.
   */
  timeoutMs?: number;
  /**
   * false: the connection is closed after the answer (a `/probe` target not in the config), so
   * no connection pool is kept for it and any number of such targets holds none.
   */
  keepAlive?: boolean;
}

export interface HttpResponse {
  status: number;
  body: Buffer;
}

/** The seam between the sources and the network: tests can route it to msw handlers. */
export interface Transport {
  send(req: HttpRequest): Promise<HttpResponse>;
  /** Refuses new requests; those in flight finish. */
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
  /** Connections kept per origin (a register polled one request at a time needs one; a paged API a few). */
  connectionsPerOrigin: number;
  tls?: TlsConfig;
  proxyUrl?: string;
  /** How host names are resolved when connecting (net.connect's `lookup`): a source may pass the cache it keys its rate gates by. */
  lookup?: LookupFunction;
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

/**
 * The requests in flight per abort signal, with one abort listener per signal rather than one per
 * request: a source sends many requests under one signal (a register's read its 7), and an EventTarget
 * listener added and removed per request costs twice as much (figures in docs/benchmark.md).
 */
const inFlight = new WeakMap<AbortSignal, Set<CollectingHandler>>();

function track(signal: AbortSignal, handler: CollectingHandler): void {
  let handlers = inFlight.get(signal);
  if (!handlers) {
    const set = (handlers = new Set());
    inFlight.set(signal, set);
    signal.addEventListener('abort', () => {
      for (const h of set) h.abort(signal.reason);
    }, { once: true });
  }
  handlers.add(handler);
}

/** Collects one response in memory, up to `maxBytes`. */
class CollectingHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private readonly chunks: Buffer[] = [];
  private total = 0;

  constructor(
    private readonly signal: AbortSignal,
    private readonly maxBytes: number,
    private readonly resolve: (res: HttpResponse) => void,
    private readonly reject: (err: TransportError) => void,
  ) {
    track(signal, this);
  }

  abort(reason: unknown): void {
    this.controller?.abort(reason as Error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.total += chunk.length;
    if (this.total > this.maxBytes) controller.abort(new TransportError('too_large', `response body larger than ${this.maxBytes} bytes, cut off`));
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    inFlight.get(this.signal)?.delete(this);
    // A small answer comes in one chunk, which is the handler's to keep: no copy needed.
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.total);
    this.resolve({ status: this.status, body });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    inFlight.get(this.signal)?.delete(this);
    this.reject(classifyError(err, this.signal));
  }
}

/** Origin and path of an absolute http(s) URL, without building a URL object for every request. */
export function splitUrl(url: string): { origin: string; path: string } {
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/**
 * undici's `dispatch()` through one bounded Agent per source; redirects are never followed. The body
 * is collected straight from the handler, without a stream per response: at thousands of requests a
 * second the streams were most of the exporter's garbage. The Agent keeps a pool per origin only
 * while it has a connection (undici drops it on disconnect), so requests sent with `keepAlive:
 * false` leave no pool behind.
 */
export class UndiciTransport implements Transport {
  private readonly dispatcher: Dispatcher;

  constructor(opts: TransportOptions) {
    const connect = tlsConnectOptions(opts.tls);
    // A register's idle connection outlives the pause between two scrapes (about 24 s at the 30 s
    // interval of prometheus.yml.example) when the register sends no Keep-Alive hint, where undici's
    // default 4 s would reconnect every register every scrape (docs/benchmark.md, performance devices).
    const common = { connections: opts.connectionsPerOrigin, keepAliveTimeout: 30_000 };
    this.dispatcher = opts.proxyUrl
      ? new ProxyAgent({ uri: opts.proxyUrl, requestTls: connect, ...common })
      : new Agent({ connect: opts.lookup ? { ...connect, lookup: opts.lookup } : connect, ...common });
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    if (req.signal.aborted) return Promise.reject(classifyError(req.signal.reason, req.signal));
    const { origin, path } = splitUrl(req.url);
    return new Promise<HttpResponse>((resolve, reject) => {
      // `reset` undefined rather than false: false would also keep connections undici closes on purpose.
      this.dispatcher.dispatch(
        { origin, path, method: req.method, headers: req.headers, body: req.body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs, reset: req.keepAlive === false ? true : undefined },
        new CollectingHandler(req.signal, req.maxBytes, resolve, reject),
      );
    });
  }

  /**
   * No new requests; those in flight finish (each ends by its own signal or timeout): a reload
   * closes the sources it replaced while a shared read or an X-report of theirs may still be out.
   */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
