import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Reads a request body (at most 1 MB) as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > 1_000_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

/** What a simulated vendor can do instead of answering well: the faults test/integration's fault matrix switches on. */
export const SIM_FAULTS = [
  'latency', // answers after 30 s, past any scrape deadline
  'drip', // a 200 whose body drips forever
  'reset', // connection reset
  'refused', // nothing listens on the port
  'http500',
  'http503',
  'auth401', // 401 in the vendor's own auth-error shape
  'http429',
  'malformed_json',
  'wrong_shape', // JSON of the wrong shape: strings for numbers, nulls, arrays for objects
  'huge_body', // a 50 MiB body
  'non_utf8',
  'invalid_dates', // the normal answer with every date replaced by "Invalid date" / 0001-01-01
  'deep_json', // a 200 whose JSON is an array nested 30,000 deep (60 KB: inside every body cap)
] as const;
export type SimFault = (typeof SIM_FAULTS)[number];

const WRONG_SHAPE = { Status: 200, Data: [null, '1'], data: [1, '2', null], _embedded: { items: [] }, total: 'many', frs: null, sn: ['x'] };
const DATE_RE = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}\.\d{2}\.\d{4} \d{2}:\d{2})/;
const HUGE_BYTES = 50 * 1024 * 1024;
const DEEP_JSON = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;

function breakDates(value: unknown, n = { i: 0 }): unknown {
  if (typeof value === 'string') return DATE_RE.test(value) ? (n.i++ % 2 === 0 ? 'Invalid date' : '0001-01-01T00:00:00Z') : value;
  if (Array.isArray(value)) return value.map((v) => breakDates(v, n));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, breakDates(v, n)]));
  return value;
}

/** A loopback HTTP server for one simulated vendor, with a switchable fault; handler errors become a 500. */
export class SimServer {
  readonly server: Server;
  fault: SimFault | undefined;
  /** Every answer without a fault waits this long first (a slow but healthy vendor). */
  delayMs = 0;
  /** The vendor's answer to a request without valid credentials. */
  authError: () => { status: number; body: unknown } = () => ({ status: 401, body: { error: 'unauthorized' } });
  /** Called for every request that reaches the server, faults or not (the UKM rate accounting). */
  onArrival: ((req: IncomingMessage) => void) | undefined;
  private port = 0;

  constructor(private readonly handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void) {
    this.server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => this.dispatch(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(host = '127.0.0.1', port = this.port): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Switches a fault on (or off with undefined); `refused` closes the port, and reopens it after. */
  async setFault(fault: SimFault | undefined): Promise<void> {
    const was = this.fault;
    this.fault = fault;
    if (fault === 'refused' && was !== 'refused') await this.close();
    if (was === 'refused' && fault !== 'refused') await this.listen();
  }

  private run(req: IncomingMessage, res: ServerResponse): void {
    Promise.resolve(this.handler(req, res)).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    this.onArrival?.(req);
    switch (this.fault) {
      case undefined:
      case 'refused': {
        if (this.delayMs <= 0) return this.run(req, res);
        const timer = setTimeout(() => this.run(req, res), this.delayMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'latency': {
        const timer = setTimeout(() => this.run(req, res), 30_000);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"Status": 200, "Data": ');
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'http500':
        return sendJson(res, 500, { error: 'internal server error' });
      case 'http503':
        return sendJson(res, 503, { error: 'service unavailable' });
      case 'http429':
        res.setHeader('retry-after', '60');
        return sendJson(res, 429, { error: 'too many requests' });
      case 'auth401': {
        const e = this.authError();
        return sendJson(res, e.status, e.body);
      }
      case 'malformed_json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"Status": 200, "Data": {"broken": ');
        return;
      case 'wrong_shape':
        return sendJson(res, 200, WRONG_SHAPE);
      case 'non_utf8':
        res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0x80, 0x81, 0x22, 0x3a, 0xc3, 0x28, 0x7d]));
        return;
      case 'huge_body':
        return this.huge(res);
      case 'invalid_dates':
        return this.withBrokenDates(req, res);
      case 'deep_json':
        res.writeHead(200, { 'content-type': 'application/json' }).end(DEEP_JSON);
        return;
    }
  }

  /** 50 MiB of a JSON string, written as fast as the client reads it. */
  private huge(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': HUGE_BYTES });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < HUGE_BYTES && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  /** The vendor's normal answer, with every date-like string broken. */
  private withBrokenDates(req: IncomingMessage, res: ServerResponse): void {
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.end = ((chunk?: unknown) => {
      if (typeof chunk !== 'string' || chunk === '') return end(chunk);
      try {
        return end(JSON.stringify(breakDates(JSON.parse(chunk))));
      } catch {
        return end(DATE_RE.test(chunk) ? 'Invalid date' : chunk);
      }
    }) as typeof res.end;
    this.run(req, res);
  }
}
