import type { AtolSourceConfig } from './config.js';
import type { SourceHttp } from '../../http/client.js';
import { parseVendorTime } from '../time.js';
import { countedLogin, type IssuedToken, type TokenSession } from '../auth.js';
import type { Page } from '../paging.js';
import { apiUrl, isRejectedToken, requestJson } from '../vendor-json.js';
import { atolOneSchema, atolPageSchema, atolTokenSchema, readAtolProblem } from './parse.js';

/** A page of 100 registers is about 100 KiB; anything near this is not an ATOL page. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The read-only calls of the ATOL Online KKT and FN information service API v1.0. */
export class AtolClient {
  constructor(
    private readonly config: AtolSourceConfig,
    private readonly http: SourceHttp,
    private readonly session: TokenSession,
  ) {}

  private readonly login = (signal: AbortSignal): Promise<IssuedToken> =>
    countedLogin(this.http, 'ATOL', async () => {
      const t = await requestJson(
        this.http,
        'auth',
        {
          method: 'POST',
          url: apiUrl(this.config.url, '/api/auth/v1/gettoken'),
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ login: this.config.login, pass: this.config.password }),
          signal,
          maxBytes: 64 * 1024,
        },
        atolTokenSchema,
        readAtolProblem,
      );
      return { token: t.token, expiresAt: tokenExpiry(t.issued, t.expiresIn) };
    });

  private get<S extends Parameters<typeof requestJson>[3]>(endpoint: string, path: string, schema: S, signal: AbortSignal) {
    return this.session.withToken(
      this.login,
      (token) =>
        requestJson(
          this.http,
          endpoint,
          { method: 'GET', url: apiUrl(this.config.url, path), headers: { Token: token, accept: 'application/hal+json' }, signal, maxBytes: MAX_BODY_BYTES },
          schema,
          readAtolProblem,
        ),
      isRejectedToken,
      signal,
    );
  }

  async page(offset: number, signal: AbortSignal): Promise<Page<unknown>> {
    const page = await this.get('page', `/api/kkt/v1/cash-registers?limit=${this.config.page_size}&offset=${offset}`, atolPageSchema, signal);
    const items = (page._embedded ?? []).map((e) => e.data);
    return { items, total: page.total, hasNext: page._links?.next !== undefined };
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async one(serialNumber: string, signal: AbortSignal): Promise<unknown> {
    const answer = await this.get('register', `/api/kkt/v1/cash-registers/${encodeURIComponent(serialNumber)}`, atolOneSchema, signal);
    return answer.data;
  }
}

/**
 * `issued` + `expiresIn` minutes, but never later than that long from now: the vendor may hand back
 * an older token (its life counts from its first issue) and its clock may differ from ours.
 */
export function tokenExpiry(issued: string | undefined, expiresInMinutes: number | undefined, now = Date.now()): number | undefined {
  if (expiresInMinutes === undefined) return undefined;
  const lifetime = expiresInMinutes * 60_000;
  let issuedMs: number | undefined;
  try {
    const s = issued === undefined ? undefined : parseVendorTime(issued, 'UTC');
    issuedMs = s === undefined ? undefined : s * 1000;
  } catch {
    issuedMs = undefined;
  }
  return Math.min(now + lifetime, (issuedMs ?? now) + lifetime);
}
