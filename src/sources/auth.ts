import { createHash } from 'node:crypto';
import type { SourceHttp } from '../http/client.js';
import type { Logger } from '../log.js';
import { VendorError } from './vendor-json.js';

/** A login the vendor refused, or could not answer. */
export class AuthError extends Error {
  constructor(readonly result: 'wrong_credentials' | 'error', message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface IssuedToken {
  token: string;
  /** Epoch milliseconds after which the token is not to be used; undefined = until rejected. */
  expiresAt?: number;
}

/**
 * Logs in under the signal of the call that needs the token (a scrape's deadline: a login never
 * outlives it); the caller's own HTTP client, so a session outlives the config generation that made it.
 */
export type Login = (signal: AbortSignal) => Promise<IssuedToken>;

const NEVER = new AbortController().signal;

export interface TokenSessionOptions {
  /** Renew this long before the token's stated expiry. */
  refreshMarginMs?: number;
  /** After wrong credentials, fail at once for this long instead of asking again. */
  wrongCredentialsBackoffMs?: number;
  log?: Logger;
}

/**
 * A vendor token shared by every scrape, probe and config generation using the same credentials:
 * one login at a time, the token reused until it expires or the vendor rejects it, then one new
 * login and one retry. Wrong credentials are not retried until the back-off has passed.
 */
export class TokenSession {
  private current: IssuedToken | undefined;
  private pending: Promise<IssuedToken> | undefined;
  private refusedUntil = 0;
  private refusal: AuthError | undefined;
  private warnedStale = false;

  constructor(private readonly opts: TokenSessionOptions = {}) {}

  private get refreshMarginMs(): number {
    return this.opts.refreshMarginMs ?? 60_000;
  }

  private fresh(expiresAt: number | undefined): boolean {
    return expiresAt === undefined || Date.now() < expiresAt - this.refreshMarginMs;
  }

  private valid(t: IssuedToken | undefined): t is IssuedToken {
    return t !== undefined && this.fresh(t.expiresAt);
  }

  /**
   * A token that is stale the moment it is issued (a skewed clock, a buggy service) would make every
   * call log in again: it is used until the vendor rejects it instead, and said once.
   */
  private accepted(t: IssuedToken): IssuedToken {
    if (this.fresh(t.expiresAt)) return t;
    if (!this.warnedStale) {
      this.warnedStale = true;
      this.opts.log?.warn('the vendor issued a token whose stated expiry has passed or is about to; using it until the vendor rejects it (clock skew?)', {
        expires_in_seconds: Math.round(((t.expiresAt ?? 0) - Date.now()) / 1000),
      });
    }
    return { token: t.token };
  }

  /** The current token, or one new one from `login` (shared by concurrent callers). */
  async token(login: Login, signal: AbortSignal = NEVER): Promise<string> {
    if (this.valid(this.current)) return this.current.token;
    if (this.refusal && Date.now() < this.refusedUntil) throw this.refusal;
    this.pending ??= login(signal)
      .then((issued) => {
        const t = this.accepted(issued);
        this.current = t;
        this.refusal = undefined;
        return t;
      })
      .catch((err: unknown) => {
        if (err instanceof AuthError && err.result === 'wrong_credentials') {
          this.refusal = err;
          this.refusedUntil = Date.now() + (this.opts.wrongCredentialsBackoffMs ?? 60_000);
        }
        throw err;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return (await this.pending).token;
  }

  /** Forgets `token` if it is still the current one (a concurrent caller may have renewed it). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  /** Runs `call` with the token; when `rejected(err)` says the vendor refused it, renews once and retries once. */
  async withToken<T>(login: Login, call: (token: string) => Promise<T>, rejected: (err: unknown) => boolean, signal: AbortSignal = NEVER): Promise<T> {
    const first = await this.token(login, signal);
    try {
      return await call(first);
    } catch (err) {
      if (!rejected(err)) throw err;
      this.invalidate(first);
      return call(await this.token(login, signal));
    }
  }
}

/** Token sessions by credentials, kept across config reloads so a reload does not log in again. */
export class SessionRegistry {
  private readonly sessions = new Map<string, TokenSession>();

  constructor(private readonly log?: Logger) {}

  /** `parts` are the vendor, then what identifies the account (URL, login, password). */
  get(parts: readonly string[]): TokenSession {
    const key = createHash('sha256').update(parts.join('\u0000')).digest('hex');
    let session = this.sessions.get(key);
    if (!session) this.sessions.set(key, (session = new TokenSession({ log: this.log?.child({ vendor: parts[0] }) })));
    return session;
  }
}

/** A JWT's `exp` claim in epoch milliseconds, or undefined when the token is not a JWT with one. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a vendor login, counts it in `kkt_exporter_auth_requests_total`, and turns a refusal (401 or
 * 403) into AuthError('wrong_credentials') so the session backs off instead of asking again.
 */
export async function countedLogin(http: SourceHttp, vendor: string, login: () => Promise<IssuedToken>): Promise<IssuedToken> {
  try {
    const token = await login();
    http.observer.auth(http.source, 'success');
    return token;
  } catch (err) {
    const refused = err instanceof VendorError && (err.status === 401 || err.status === 403 || err.code === 'WrongLoginOrPassword');
    http.observer.auth(http.source, refused ? 'wrong_credentials' : 'error');
    throw new AuthError(refused ? 'wrong_credentials' : 'error', `${vendor} login failed: ${(err as Error).message}`);
  }
}
