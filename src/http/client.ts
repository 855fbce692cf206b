import { TransportError, type HttpRequest, type HttpResponse, type Transport } from './transport.js';

/** What the exporter's self-metrics learn from the HTTP layer. */
export interface RequestObserver {
  request(source: string, endpoint: string, code: string, seconds: number): void;
  rateLimitWait(source: string, seconds: number): void;
  auth(source: string, result: string): void;
}

/** One source's way to the network: its transport plus the request accounting every source shares. */
export class SourceHttp {
  constructor(
    readonly source: string,
    private readonly transport: Transport,
    readonly observer: RequestObserver,
  ) {}

  /** Sends a request; `endpoint` names the vendor call kind for metrics (`paper`, `page`, `auth`, ...). */
  async send(endpoint: string, req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    const account = (code: string) => this.observer.request(this.source, endpoint, code, (performance.now() - started) / 1000);
    try {
      const res = await this.transport.send(req);
      account(String(res.status));
      return res;
    } catch (err) {
      account(err instanceof TransportError ? err.failure : 'error');
      throw err;
    }
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
