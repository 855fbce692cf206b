import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { ServerOptions } from 'node:https';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { ConfigError, readTextFile, readYaml, TLS_FILE_LIMIT, whyUnreadable, YamlFile, type ConfigProblem } from '../config/load.js';
import {
  allowedSansOf,
  cipherProblem,
  CLIENT_AUTH_TYPES,
  clientAuthOf,
  curveProblem,
  nodeCiphers,
  nodeCurves,
  nodeVersion,
  OLDEST_NODE_VERSION,
  TLS_VERSIONS,
  type ClientCertPolicy,
  type TlsVersion,
} from './web-tls.js';

/** The most a web config file, or a certificate, key or CA file it names, may hold. */
export const WEB_CONFIG_LIMIT = { bytes: 1024 * 1024, text: '1 MiB, the limit for a web config file' };

/** A YAML key left empty (`http_server_config:`) is null: Go's yaml leaves the defaults then. */
const section = <S extends z.ZodType>(schema: S) => schema.nullish().transform((v) => v ?? undefined);

const tlsServerConfig = z.strictObject({
  cert: z.string().optional(),
  key: z.string().optional(),
  client_ca: z.string().optional(),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
  client_auth_type: z.enum(CLIENT_AUTH_TYPES).optional(),
  client_ca_file: z.string().optional(),
  client_allowed_sans: z.array(z.string()).optional(),
  min_version: z.enum(TLS_VERSIONS).default('TLS12'),
  max_version: z.enum(TLS_VERSIONS).default('TLS13'),
  cipher_suites: z.array(z.string()).default([]),
  curve_preferences: z.array(z.string()).default([]),
  prefer_server_cipher_suites: z.boolean().default(true),
});
type TlsServerConfig = z.infer<typeof tlsServerConfig>;

/** `--web.config.file`, in the Prometheus exporter-toolkit format (docs/web-configuration.md there). */
const webConfigSchema = z.strictObject({
  tls_server_config: section(tlsServerConfig),
  http_server_config: section(
    z.strictObject({
      http2: z.boolean().optional(),
      headers: section(z.record(z.string(), z.string())),
    }),
  ),
  /** User name -> bcrypt hash, as `htpasswd -nBC 10 user` prints it. */
  basic_auth_users: section(z.record(z.string(), z.string().regex(/^\$2[abxy]?\$\d\d\$/, 'must be a bcrypt hash'))),
  rate_limit: section(z.strictObject({ interval: z.union([z.string(), z.number()]).optional(), burst: z.number().int().min(0).default(0) })),
  /** Paths answered without basic auth (not in exporter-toolkit): e.g. [/-/healthy] for container health checks. */
  unauthenticated_paths: z.array(z.string().startsWith('/')).default([]),
});
export type WebConfig = z.infer<typeof webConfigSchema>;

export interface WebTls {
  options: ServerOptions;
  policy: ClientCertPolicy;
}

export interface LoadedWebConfig {
  file: string;
  config: WebConfig;
  /** Undefined when tls_server_config names no certificate, key, CA or client auth (plain HTTP, as Go). */
  tls?: WebTls;
  /** The headers set on every answer (blank ones are unset, as exporter-toolkit says). */
  headers: Record<string, string>;
  /** exporter-toolkit's token bucket: a request every `intervalMs`, bursts of `burst`. */
  rateLimit?: { intervalMs: number; burst: number };
  /** Keys accepted that do nothing here, each with why: logged at every load. */
  warnings: string[];
}

/** Values exporter-toolkit checks (validateHeaderConfig); other headers are set as given. */
const HEADER_VALUES: Record<string, readonly string[]> = { 'X-Content-Type-Options': ['nosniff'], 'X-Frame-Options': ['deny', 'sameorigin'] };

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3600_000 };

/** Go's time.ParseDuration (what exporter-toolkit's `rate_limit.interval` is), in milliseconds. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!/^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (GO_UNITS_MS[m[2] as string] as number);
  return ms;
}

/** Builds a LoadedWebConfig, collecting every problem at its place in the file. */
class WebConfigReader {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];
  private readonly dir: string;

  constructor(
    private readonly yaml: YamlFile,
    private readonly config: WebConfig,
  ) {
    this.dir = dirname(resolve(yaml.file));
  }

  problem(path: ReadonlyArray<string | number>, message: string): void {
    this.problems.push(this.yaml.problemAt(path, message));
  }

  async tls(): Promise<WebTls | undefined> {
    const t = this.config.tls_server_config;
    if (!t || !tlsEnabled(t)) return undefined;
    const at = (key: string) => ['tls_server_config', key];
    this.checkVersions(t);
    this.checkClientAuth(t);
    t.cipher_suites.forEach((c, i) => this.complain(['tls_server_config', 'cipher_suites', i], cipherProblem(c)));
    t.curve_preferences.forEach((c, i) => this.complain(['tls_server_config', 'curve_preferences', i], curveProblem(c)));
    const [cert, key, ca] = await Promise.all([this.pem(t, 'cert', 'cert_file', true), this.pem(t, 'key', 'key_file', true), this.pem(t, 'client_ca', 'client_ca_file', false)]);
    if (this.problems.length > 0 || cert === undefined || key === undefined) return undefined;
    const auth = clientAuthOf(t.client_auth_type ?? 'NoClientCert');
    const options: ServerOptions = {
      cert,
      key,
      ...(ca !== undefined && { ca }),
      requestCert: auth.requestCert,
      rejectUnauthorized: auth.rejectUnauthorized,
      minVersion: nodeVersion(t.min_version),
      maxVersion: nodeVersion(t.max_version),
      honorCipherOrder: t.prefer_server_cipher_suites,
      ...(t.cipher_suites.length > 0 && { ciphers: nodeCiphers(t.cipher_suites) }),
      ...(t.curve_preferences.length > 0 && { ecdhCurve: nodeCurves(t.curve_preferences) }),
    };
    try {
      createSecureContext(options);
    } catch (err) {
      // OpenSSL's reason (e.g. "key values mismatch", "no start line"): it never quotes the key.
      this.problem(at(t.cert_file !== undefined ? 'cert_file' : 'cert'), `Node cannot use this certificate, key and CA: ${(err as Error).message}`);
      return undefined;
    }
    const sans = t.client_allowed_sans;
    return { options, policy: { auth, ...(sans !== undefined && { allowedSans: allowedSansOf(sans) }) } };
  }

  private complain(path: ReadonlyArray<string | number>, message: string | undefined): void {
    if (message !== undefined) this.problem(path, message);
  }

  private checkVersions(t: TlsServerConfig): void {
    const order = (v: TlsVersion) => TLS_VERSIONS.indexOf(v);
    for (const key of ['min_version', 'max_version'] as const) {
      if (order(t[key]) < order(OLDEST_NODE_VERSION)) {
        this.problem(['tls_server_config', key], `${key} ${t[key]}: Node's OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level, which this exporter does not lower; use TLS12 or TLS13`);
      }
    }
    if (order(t.min_version) > order(t.max_version)) this.problem(['tls_server_config', 'max_version'], `max_version ${t.max_version} is below min_version ${t.min_version}`);
  }

  private checkClientAuth(t: TlsServerConfig): void {
    const type = t.client_auth_type ?? 'NoClientCert';
    if ((t.client_ca_file !== undefined || t.client_ca !== undefined) && type === 'NoClientCert') {
      this.problem(['tls_server_config', t.client_ca_file !== undefined ? 'client_ca_file' : 'client_ca'], 'a client CA is set but client_auth_type is NoClientCert: set client_auth_type (RequireAndVerifyClientCert checks client certificates against the CA)');
    }
    if (t.client_allowed_sans !== undefined && !['RequireAnyClientCert', 'RequireClientCert', 'RequireAndVerifyClientCert'].includes(type)) {
      this.problem(['tls_server_config', 'client_allowed_sans'], 'client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert');
    }
  }

  /** The PEM text given inline (`inline`) or in a file (`fileKey`, relative to the web config's folder, as exporter-toolkit). */
  private async pem(t: TlsServerConfig, inline: 'cert' | 'key' | 'client_ca', fileKey: 'cert_file' | 'key_file' | 'client_ca_file', required: boolean): Promise<string | undefined> {
    const text = t[inline];
    const file = t[fileKey];
    if (text !== undefined && file !== undefined) {
      this.problem(['tls_server_config', fileKey], `set either ${inline} or ${fileKey}, not both`);
      return undefined;
    }
    if (text !== undefined) return text;
    if (file === undefined) {
      if (required) this.problem(['tls_server_config'], `tls_server_config: missing one of ${inline} or ${fileKey}`);
      return undefined;
    }
    const path = resolve(this.dir, file);
    try {
      return await readTextFile(path, TLS_FILE_LIMIT);
    } catch (err) {
      this.problem(['tls_server_config', fileKey], `cannot read ${fileKey} ${path}: ${whyUnreadable(err)}`);
      return undefined;
    }
  }

  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.config.http_server_config?.headers ?? {})) {
      const at = ['http_server_config', 'headers', name];
      const allowed = HEADER_VALUES[name];
      if (value === '') continue;
      if (allowed && !allowed.includes(value)) this.problem(at, `${name} must be one of ${allowed.join(', ')} (as exporter-toolkit checks)`);
      else if (!validHeader(name, value)) this.problem(at, `"${name}" is not a valid HTTP header name, or its value has characters a header cannot hold`);
      else headers[name] = value;
    }
    return headers;
  }

  /** Node's https server speaks HTTP/1.1 only; a client offering h2 falls back to it in ALPN, as with Go's http2 off. */
  warnAboutHttp2(): void {
    if (this.config.http_server_config?.http2 === true) this.warnings.push('http_server_config.http2: this exporter serves HTTP/1.1 only; clients negotiate it (ALPN) as they do with a Go server that has http2 off');
  }

  rateLimit(): LoadedWebConfig['rateLimit'] {
    const r = this.config.rate_limit;
    if (!r || r.interval === undefined) return undefined;
    const intervalMs = typeof r.interval === 'number' ? r.interval / 1e6 : parseGoDuration(r.interval);
    if (intervalMs === undefined || intervalMs < 0) {
      this.problem(['rate_limit', 'interval'], 'rate_limit.interval must be a Go duration such as 100ms or 1s (0 turns the limit off)');
      return undefined;
    }
    if (intervalMs === 0) return undefined;
    if (r.burst === 0) {
      this.problem(['rate_limit', 'burst'], 'rate_limit.burst 0 with an interval would refuse every request: set burst to 1 or more');
      return undefined;
    }
    return { intervalMs, burst: r.burst };
  }
}

/** Go's TLSConfig.IsEnabled: TLS only when a certificate, key, CA or client auth is named. */
function tlsEnabled(t: TlsServerConfig): boolean {
  return [t.cert, t.cert_file, t.key, t.key_file, t.client_ca, t.client_ca_file, t.client_auth_type].some((v) => v !== undefined && v !== '');
}

function validHeader(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and checks a web config, and the certificate, key and CA files it names. Throws ConfigError
 * with every problem at its `file:line:col`; no message quotes a password hash or a key.
 */
export async function loadWebConfig(file: string): Promise<LoadedWebConfig> {
  const { yaml, value: read } = await readYaml(file, { limit: WEB_CONFIG_LIMIT });
  const value = read ?? {};
  const parsed = webConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(yaml.zodProblems(parsed.error));
  const reader = new WebConfigReader(yaml, parsed.data);
  const tls = await reader.tls();
  const headers = reader.headers();
  const rateLimit = reader.rateLimit();
  reader.warnAboutHttp2();
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return { file, config: parsed.data, ...(tls && { tls }), headers, ...(rateLimit && { rateLimit }), warnings: reader.warnings };
}

/** One line for `--config.check`: what the web config turns on. */
export function describeWebConfig(web: LoadedWebConfig): string {
  const users = Object.keys(web.config.basic_auth_users ?? {}).length;
  const parts = [web.tls ? 'TLS' : 'no TLS', users > 0 ? `${users} basic auth user${users === 1 ? '' : 's'}` : 'no basic auth'];
  if (web.rateLimit) parts.push(`rate limit: a request per ${web.rateLimit.intervalMs} ms, bursts of ${web.rateLimit.burst}`);
  return `${web.file}: OK (${parts.join(', ')})`;
}
