import { TransportError, type HttpRequest, type HttpResponse, type Transport } from './transport.js';

/** What the exporter's self-metrics learn from the HTTP layer. */
export interface RequestObserver {
  request(source: string, endpoint: string, code: string, seconds: number): void;
  rateLimitWait(source: string, seconds: number): void;
  auth(source: string, result: string): void;
}

/** One source's way to the network: its transport plus the request accounting every source shares. */
export class VendorHttp {
  constructor(
    readonly source: string,
    private readonly transport: Transport,
    readonly observer: RequestObserver,
  ) {}

  /** Sends a request; `endpoint` names the vendor call kind for metrics (`paper`, `page`, `auth`, ...). */
  send(endpoint: string, req: HttpRequest): Promise<HttpResponse> {
    // Callbacks rather than an async function: on the hottest path, its frame was the largest allocation.
    const started = performance.now();
    const account = (code: string) => this.observer.request(this.source, endpoint, code, (performance.now() - started) / 1000);
    return this.transport.send(req).then(
      (res) => {
        account(String(res.status));
        return res;
      },
      (err: unknown) => {
        account(err instanceof TransportError ? err.failure : 'error');
        throw err;
      },
    );
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
