import type { BusinessKassaSourceConfig, StaticAuthConfig } from './config.js';
import type { SourceHttp } from '../../http/client.js';
import { apiUrl, isRejectedToken, requestJson, VendorError } from '../vendor-json.js';
import { bkCircuitSchema, bkFleetSchema, readBkError, type BkCircuit } from './parse.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Request headers carrying the configured credentials. */
export function authHeaders(auth: StaticAuthConfig): Record<string, string> {
  const headers: Record<string, string> = { ...auth.headers };
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.bearer_token) headers.authorization = `Bearer ${auth.bearer_token}`;
  if (auth.basic_auth) {
    headers.authorization = `Basic ${Buffer.from(`${auth.basic_auth.username}:${auth.basic_auth.password}`).toString('base64')}`;
  }
  return headers;
}

/** The read calls of the BusinessKassa cloud register service; its management calls are never made. */
export class BusinessKassaClient {
  private readonly headers: Record<string, string>;

  constructor(
    private readonly config: BusinessKassaSourceConfig,
    private readonly http: SourceHttp,
  ) {
    this.headers = { ...authHeaders(config.auth), accept: 'application/json' };
  }

  private async get<S extends Parameters<typeof requestJson>[3]>(endpoint: string, path: string, schema: S, signal: AbortSignal) {
    try {
      return await requestJson(
        this.http,
        endpoint,
        { method: 'GET', url: apiUrl(this.config.url, path), headers: this.headers, signal, maxBytes: MAX_BODY_BYTES },
        schema,
        readBkError,
      );
    } catch (err) {
      // The service answers 401 when the session has expired or the credentials are wrong.
      if (isRejectedToken(err)) {
        this.http.observer.auth(this.http.source, 'wrong_credentials');
        throw new VendorError(`credentials rejected (HTTP 401; an expired session cookie?)${err.message.replace(/^HTTP 401/, '')}`, 401);
      }
      throw err;
    }
  }

  fleet(signal: AbortSignal): Promise<unknown[]> {
    return this.get('frs', '/frs', bkFleetSchema, signal);
  }

  one(eip: string, signal: AbortSignal): Promise<unknown> {
    return this.get('fr', `/frs/${encodeURIComponent(eip)}`, bkFleetSchema.element, signal);
  }

  circuit(inn: string, signal: AbortSignal): Promise<BkCircuit> {
    return this.get('fcircuit', this.config.circuit_path.replace('{inn}', encodeURIComponent(inn)), bkCircuitSchema, signal);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
