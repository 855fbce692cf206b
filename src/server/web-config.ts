import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { SecureVersion } from 'node:tls';
import { parse } from 'yaml';
import { z } from 'zod';
import { createBasicAuth } from './basic-auth.js';

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/** `--web.config.file`, in the Prometheus exporter-toolkit format (the part of it this exporter serves). */
const webConfigSchema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string(),
      key_file: z.string(),
      client_auth_type: z.enum(['NoClientCert', 'RequireAndVerifyClientCert']).default('NoClientCert'),
      client_ca_file: z.string().optional(),
      min_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS12'),
      max_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS13'),
    })
    .optional(),
  http_server_config: z.strictObject({ headers: z.record(z.string(), z.string()).default({}) }).optional(),
  /** User name -> bcrypt hash, as `htpasswd -nBC 10 user` prints it. */
  basic_auth_users: z.record(z.string(), z.string().regex(/^\$2[abxy]?\$\d\d\$/, 'must be a bcrypt hash')).optional(),
  /** Paths answered without basic auth (not in exporter-toolkit): e.g. [/-/healthy] for container health checks. */
  unauthenticated_paths: z.array(z.string().startsWith('/')).default([]),
});
export type WebConfig = z.infer<typeof webConfigSchema>;

export interface LoadedWebConfig {
  config: WebConfig;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean; minVersion: SecureVersion; maxVersion: SecureVersion };
}

export function loadWebConfig(file: string): LoadedWebConfig {
  const parsed = webConfigSchema.safeParse(parse(readFileSync(file, 'utf8')) ?? {});
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const t = config.tls_server_config;
  const tls = t && {
    cert: readFileSync(t.cert_file),
    key: readFileSync(t.key_file),
    ca: t.client_ca_file ? readFileSync(t.client_ca_file) : undefined,
    requestCert: t.client_auth_type === 'RequireAndVerifyClientCert',
    rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert',
    minVersion: TLS_VERSIONS[t.min_version] as SecureVersion,
    maxVersion: TLS_VERSIONS[t.max_version] as SecureVersion,
  };
  return { config, tls };
}

function refuse(res: ServerResponse, verdict: 'denied' | 'busy'): void {
  if (verdict === 'busy') {
    res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' }).end('Too many password checks in progress\n');
    return;
  }
  res.writeHead(401, { 'www-authenticate': 'Basic realm="kkt-exporter"', 'content-type': 'text/plain' }).end('Unauthorized\n');
}

/**
 * Wraps a handler with basic auth and the configured response headers. bcrypt is slow on purpose, so
 * it runs in a worker thread with a bounded queue, and results are remembered by a hash of the
 * credentials, as exporter-toolkit does (see basic-auth.ts).
 */
export function withWebConfig(handler: RequestListener, config: WebConfig): RequestListener {
  const auth = config.basic_auth_users && createBasicAuth(config.basic_auth_users);
  const open = new Set(config.unauthenticated_paths);
  const headers = config.http_server_config?.headers ?? {};
  return (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!auth || open.has(path)) return handler(req, res);
    void auth.check(req.headers.authorization, req.socket.remoteAddress ?? '').then((verdict) => {
      if (verdict === 'ok') handler(req, res);
      else refuse(res, verdict);
    });
  };
}
