import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_CIPHERS, type SecureVersion, type TLSSocket } from 'node:tls';

/**
 * exporter-toolkit's TLS settings (Go's crypto/tls names) in Node's terms. What Node cannot do is
 * refused by the loader with the reason written here.
 */

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
  // exporter-toolkit's old name for RequireAnyClientCert, still accepted there.
  'RequireClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

export const TLS_VERSIONS = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];
const NODE_VERSIONS: Record<TlsVersion, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
/** Node's OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level, which is not lowered here. */
export const OLDEST_NODE_VERSION: TlsVersion = 'TLS12';
export const nodeVersion = (v: TlsVersion): SecureVersion => NODE_VERSIONS[v];

/** The TLS 1.0-1.2 suites of Go's tls.CipherSuites() (and of Go <= 1.22's, the TLS_RSA_ ones), as OpenSSL names them. */
const GO_CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
/** Go accepts these and ignores them: TLS 1.3 suites are not configurable there, so Node's defaults stay. */
const GO_TLS13_CIPHERS = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
/** Go's tls.InsecureCipherSuites(), which exporter-toolkit refuses as unknown. */
const GO_INSECURE_CIPHERS = new Set([
  'TLS_RSA_WITH_RC4_128_SHA',
  'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
]);
const NODE_TLS13_DEFAULTS = DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_'));

/** Why Node cannot take a Go cipher suite name, or undefined when it can. */
export function cipherProblem(name: string): string | undefined {
  if (name in GO_CIPHERS || GO_TLS13_CIPHERS.has(name)) return undefined;
  if (GO_INSECURE_CIPHERS.has(name)) return `cipher suite "${name}" is one of Go's insecure suites (RC4, 3DES, CBC_SHA256), which exporter-toolkit refuses too: remove it`;
  return `unknown cipher suite "${name}": use Go's crypto/tls names, one of ${[...Object.keys(GO_CIPHERS), ...GO_TLS13_CIPHERS].join(', ')}`;
}

/** An OpenSSL cipher list: the given TLS 1.2 suites in order, and Node's default TLS 1.3 suites (as Go keeps its own). */
export function nodeCiphers(goNames: readonly string[]): string {
  return [...goNames.flatMap((n) => GO_CIPHERS[n] ?? []), ...NODE_TLS13_DEFAULTS].join(':');
}

const GO_CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

export function curveProblem(name: string): string | undefined {
  return name in GO_CURVES ? undefined : `unknown curve "${name}": exporter-toolkit accepts ${Object.keys(GO_CURVES).join(', ')}`;
}

export function nodeCurves(goNames: readonly string[]): string {
  return goNames.map((n) => GO_CURVES[n] as string).join(':');
}

/** Node's server options for a client auth type, and what is checked once the handshake is done. */
export interface ClientAuth {
  requestCert: boolean;
  rejectUnauthorized: boolean;
  /** A connection without a client certificate is closed (Go's RequireAnyClientCert). */
  requireCert: boolean;
  /** A client certificate that does not verify is closed (Go's VerifyClientCertIfGiven). */
  verifyIfGiven: boolean;
}

export function clientAuthOf(type: ClientAuthType): ClientAuth {
  const ask = type !== 'NoClientCert';
  return {
    requestCert: ask,
    rejectUnauthorized: type === 'RequireAndVerifyClientCert',
    requireCert: type === 'RequireAnyClientCert' || type === 'RequireClientCert',
    verifyIfGiven: type === 'VerifyClientCertIfGiven',
  };
}

/** A SAN value as Go prints it: IP addresses in their short form, the rest as is. */
function canonicalSan(value: string): string {
  if (isIP(value) !== 6) return value;
  return new URL(`http://[${value}]`).hostname.slice(1, -1);
}

/**
 * The DNS, IP, email and URI SANs of a certificate. Node prints them as `TYPE:value, ...`, a value
 * with a special character as a JSON string.
 */
export function subjectAltNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  const entry = /(DNS|IP Address|email|URI|[^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of (cert.subjectAltName ?? '').matchAll(entry)) {
    const raw = m[2] as string;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (['DNS', 'IP Address', 'email', 'URI'].includes(m[1] as string)) names.push(canonicalSan(value));
  }
  return names;
}

export interface ClientCertPolicy {
  auth: ClientAuth;
  /** client_allowed_sans: a client certificate must carry one of these. */
  allowedSans?: ReadonlySet<string>;
}

export function allowedSansOf(sans: readonly string[]): ReadonlySet<string> {
  return new Set(sans.map(canonicalSan));
}

/** Why a connection that has completed its handshake is refused by the web config, or undefined. */
export function clientCertRefusal(socket: TLSSocket, policy: ClientCertPolicy): string | undefined {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return policy.auth.requireCert || policy.allowedSans ? 'no client certificate' : undefined;
  if (policy.auth.verifyIfGiven && !socket.authorized) return `client certificate not verified: ${String(socket.authorizationError)}`;
  if (policy.allowedSans && !subjectAltNames(cert).some((n) => policy.allowedSans?.has(n))) return 'no SAN of the client certificate is in client_allowed_sans';
  return undefined;
}
