import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../config/load.js';
import type { ReloadFailure } from '../exporter/generations.js';
import { errorMessage, type Logger } from '../log.js';
import { createBasicAuth, type BasicAuth } from './basic-auth.js';
import { BcryptWorker } from './bcrypt-worker.js';
import { loadWebConfig, type LoadedWebConfig } from './web-config.js';
import { clientCertRefusal } from './web-tls.js';

export type WebReloadResult = { ok: true } | { ok: false; error: string };

/** exporter-toolkit's rate_limit: golang.org/x/time/rate's token bucket, full at the start. */
class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) / this.intervalMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A loaded web config and what serves it: kept whole until a reload replaces it. */
interface Active {
  loaded: LoadedWebConfig;
  auth: BasicAuth | undefined;
  bucket: TokenBucket | undefined;
  open: ReadonlySet<string>;
  loadedAt: Date;
}

function refuse(res: ServerResponse, verdict: 'denied' | 'busy'): void {
  if (verdict === 'busy') {
    res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end('Too many password checks in progress\n');
    return;
  }
  res.writeHead(401, { 'www-authenticate': 'Basic realm="kkt-exporter"', 'content-type': 'text/plain' }).end('Unauthorized\n');
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * `--web.config.file` in force: basic auth, headers, the rate limit and the TLS certificate and
 * client policy of every server, replaced on reload (SIGHUP, `POST /-/reload`) so that a password or
 * a certificate rotates without a restart. A web config that does not load leaves the old one.
 * bcrypt is slow on purpose: it runs in one worker thread for the process, with a bounded queue,
 * and results are remembered by a hash of the credentials, as exporter-toolkit does (basic-auth.ts).
 */
export class LiveWebConfig {
  private active: Active;
  private readonly servers: HttpsServer[] = [];
  private readonly comparer = new BcryptWorker();
  private reloading: Promise<unknown> = Promise.resolve();
  private failure: ReloadFailure | undefined;

  private constructor(
    loaded: LoadedWebConfig,
    private readonly log: Logger,
  ) {
    this.active = this.activate(loaded, undefined);
  }

  /** Throws ConfigError when the file does not load. */
  static async load(file: string, log: Logger): Promise<LiveWebConfig> {
    const live = new LiveWebConfig(await loadWebConfig(file), log);
    live.logWarnings();
    return live;
  }

  get file(): string {
    return this.active.loaded.file;
  }

  /** When the web config in force was loaded. */
  get loadedAt(): Date {
    return this.active.loadedAt;
  }

  /** The last reload, when it failed; a successful one clears it. */
  get lastReloadFailure(): ReloadFailure | undefined {
    return this.failure;
  }

  /** The HTTPS server options, or undefined for plain HTTP. */
  get tls(): LoadedWebConfig['tls'] {
    return this.active.loaded.tls;
  }

  private activate(loaded: LoadedWebConfig, old: Active | undefined): Active {
    const users = loaded.config.basic_auth_users;
    // Unchanged users keep their checker, and with it the remembered checks.
    const auth = users && old?.auth && sameJson(users, old.loaded.config.basic_auth_users) ? old.auth : users && createBasicAuth(users, { comparer: this.comparer });
    const rate = loaded.rateLimit;
    const bucket = rate && old?.bucket && sameJson(rate, old.loaded.rateLimit) ? old.bucket : rate && new TokenBucket(rate.intervalMs, rate.burst);
    return { loaded, auth, bucket, open: new Set(loaded.config.unauthenticated_paths), loadedAt: new Date() };
  }

  private logWarnings(): void {
    for (const warning of this.active.loaded.warnings) this.log.warn('web config: a setting does nothing here', { file: this.file, why: warning });
  }

  /** Wraps the app with the rate limit, the headers and basic auth of the web config in force at each request. */
  handler(app: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const { loaded, auth, bucket, open } = this.active;
      if (bucket && !bucket.take()) {
        res.writeHead(429, { 'content-type': 'text/plain' }).end('Too Many Requests\n');
        return;
      }
      for (const [k, v] of Object.entries(loaded.headers)) res.setHeader(k, v);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (!auth || open.has(path)) return app(req, res);
      void auth.check(req.headers.authorization, req.socket.remoteAddress ?? '').then((verdict) => {
        if (verdict === 'ok') app(req, res);
        else refuse(res, verdict);
      });
    };
  }

  /** A server listening with `tls`: its certificate and client policy follow reloads from now on. */
  attach(server: Server): void {
    if (!this.tls) return;
    const https = server as HttpsServer;
    this.servers.push(https);
    https.on('secureConnection', (socket: TLSSocket) => {
      const policy = this.active.loaded.tls?.policy;
      const why = policy && clientCertRefusal(socket, policy);
      if (why === undefined) return;
      this.log.debug('TLS connection refused by the web config', { remote: socket.remoteAddress, why });
      socket.destroy();
    });
  }

  /** Re-reads the file; on failure keeps the web config in force and says why. */
  reload(): Promise<WebReloadResult> {
    const next = this.reloading.then(() => this.reloadNow());
    this.reloading = next;
    return next;
  }

  private async reloadNow(): Promise<WebReloadResult> {
    const file = this.file;
    try {
      const loaded = await loadWebConfig(file);
      if ((loaded.tls === undefined) !== (this.tls === undefined)) {
        throw new Error(`${file}: tls_server_config ${loaded.tls ? 'now turns TLS on' : 'no longer turns TLS on'}: switching between HTTP and HTTPS needs a restart`);
      }
      for (const server of this.servers) this.applyTls(server, loaded);
      this.active = this.activate(loaded, this.active);
      this.failure = undefined;
      this.log.info('web config loaded', { file });
      this.logWarnings();
      return { ok: true };
    } catch (err) {
      const error = err instanceof ConfigError ? err.message : errorMessage(err);
      this.log.error('web config not loaded; keeping the previous one', { file, err: error });
      this.failure = { at: new Date(), error };
      return { ok: false, error };
    }
  }

  /** New connections get the new certificate and client auth; open ones keep theirs. */
  private applyTls(server: HttpsServer, loaded: LoadedWebConfig): void {
    const options = loaded.tls?.options;
    if (!options) return;
    server.setSecureContext(options);
    // setSecureContext leaves these, which tls.Server reads for each new connection.
    const s = server as HttpsServer & { requestCert: boolean; rejectUnauthorized: boolean };
    s.requestCert = options.requestCert === true;
    s.rejectUnauthorized = options.rejectUnauthorized !== false;
  }

  close(): Promise<void> {
    return this.comparer.close();
  }
}
