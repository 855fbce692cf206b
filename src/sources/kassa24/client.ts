import type { z } from 'zod';
import type { Kassa24SourceConfig } from './config.js';
import type { SourceHttp } from '../../http/client.js';
import { describeZodError } from '../fields.js';
import { countedLogin, jwtExpiry, type IssuedToken, type TokenSession } from '../auth.js';
import { apiUrl, isRejectedToken, requestJson, VendorError } from '../vendor-json.js';
import { k24EnvelopeSchema, k24RegisterAnswerSchema, k24RegisterListSchema, k24ShiftSchema, k24TokenSchema, k24XReportSchema, readK24Error, type K24Register, type K24Shift, type K24XReport } from './parse.js';

const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * The calls the shift prober makes to the Kassa24 (Fiscal24) API - and the only ones: it never
 * opens or closes a shift (`POST /shifts`, `POST /shifts/:id/z`) or posts a receipt operation.
 */
export class Kassa24Client {
  constructor(
    private readonly config: Kassa24SourceConfig,
    private readonly http: SourceHttp,
    private readonly session: TokenSession,
  ) {}

  /** Sends a request and unwraps `{Status, Message, Data}`, validating Data with `schema`. */
  private async call<S extends z.ZodType>(endpoint: string, method: 'GET' | 'POST', path: string, schema: S, signal: AbortSignal, headers: Record<string, string>, body?: string): Promise<z.infer<S>> {
    const env = await requestJson(
      this.http,
      endpoint,
      { method, url: apiUrl(this.config.url, path), headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body, signal, maxBytes: MAX_BODY_BYTES },
      k24EnvelopeSchema,
      readK24Error,
    );
    if (env.Status !== undefined && env.Status !== 200) throw new VendorError(`Status ${env.Status}: ${env.Message ?? ''}`, env.Status);
    const data = schema.safeParse(env.Data);
    if (!data.success) throw new VendorError(`unexpected answer: ${describeZodError(data.error)}`);
    return data.data;
  }

  private readonly login = (signal: AbortSignal): Promise<IssuedToken> =>
    countedLogin(this.http, 'Kassa24', async () => {
      const data = await this.call('auth', 'POST', '/auth', k24TokenSchema, signal, {}, JSON.stringify({ Login: this.config.login, Password: this.config.password }));
      return { token: data.Token, expiresAt: jwtExpiry(data.Token) };
    });

  private authed<S extends z.ZodType>(endpoint: string, method: 'GET' | 'POST', path: string, schema: S, signal: AbortSignal): Promise<z.infer<S>> {
    return this.session.withToken(this.login, (token) => this.call(endpoint, method, path, schema, signal, { authorization: `Bearer ${token}` }), isRejectedToken, signal);
  }

  /** Logs in unless the session holds a good token: the source's own call, made before any register's. */
  async signIn(signal: AbortSignal): Promise<void> {
    await this.session.token(this.login, signal);
  }

  async registers(signal: AbortSignal): Promise<K24Register[]> {
    return (await this.authed('kkms', 'GET', '/kkms', k24RegisterListSchema, signal)).Kkms;
  }

  async register(id: number, signal: AbortSignal): Promise<K24Register> {
    return (await this.authed('kkm', 'GET', `/kkms/${id}`, k24RegisterAnswerSchema, signal)).Kkm;
  }

  shift(id: number, signal: AbortSignal): Promise<K24Shift> {
    return this.authed('shift', 'GET', `/shifts/${id}`, k24ShiftSchema, signal);
  }

  /** Takes an X-report: a fiscal document sent to the OFD. Method and path come from the config. */
  xreport(shiftId: number, signal: AbortSignal): Promise<K24XReport> {
    const { method, path } = this.config.xreport;
    return this.authed('xreport', method, path.replaceAll('{shift}', String(shiftId)), k24XReportSchema, signal);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
