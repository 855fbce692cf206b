import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWebConfig, parseGoDuration } from './web-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kkt-webcfg-'));
const HASH = bcrypt.hashSync('scrape-pw', 4);

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** Writes a web config into the temp folder and loads it; the message of the error it throws, else the loaded config. */
async function load(name: string, text: string) {
  writeFileSync(join(dir, name), text);
  return loadWebConfig(join(dir, name));
}

async function problems(name: string, text: string): Promise<string[]> {
  try {
    await load(name, text);
  } catch (err) {
    return (err as Error).message.split('\n');
  }
  throw new Error('loaded');
}

beforeAll(() => {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost']);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-key.pem', '-out', 'other-cert.pem', '-days', '1', '-subj', '/CN=other']);
});

/** A node_exporter web config using every key exporter-toolkit documents; certificate paths relative, as they often are. */
const STOCK = `tls_server_config:
  cert_file: cert.pem
  key_file: key.pem
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: cert.pem
  client_allowed_sans: [prometheus.example, "::1"]
  min_version: TLS12
  max_version: TLS13
  cipher_suites:
    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    - TLS_AES_128_GCM_SHA256
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: true
http_server_config:
  http2: true
  headers:
    Content-Security-Policy: "default-src 'self'"
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    X-XSS-Protection: "1; mode=block"
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: "${HASH}"
rate_limit:
  interval: 100ms
  burst: 20
`;

describe('--web.config.file in exporter-toolkit format', () => {
  it("loads a stock node_exporter web config with every documented key, relative paths against the file's folder", async () => {
    // The test runs from the repository: a path relative to the working directory would not be found.
    const web = await load('stock.yml', STOCK);
    const o = web.tls?.options;
    expect(o?.cert).toContain('BEGIN CERTIFICATE');
    expect(o?.ca).toBe(o?.cert);
    expect(o).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', honorCipherOrder: true, ecdhCurve: 'X25519:P-256' });
    // Go's TLS 1.3 suites are not configurable: Node's defaults follow the TLS 1.2 ones.
    expect(o?.ciphers).toMatch(/^ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_/);
    expect([...(web.tls?.policy.allowedSans ?? [])]).toEqual(['prometheus.example', '::1']);
    expect(web.headers['X-Frame-Options']).toBe('deny');
    expect(Object.keys(web.headers)).toHaveLength(5);
    expect(web.rateLimit).toEqual({ intervalMs: 100, burst: 20 });
    expect(web.warnings).toEqual([expect.stringMatching(/^http_server_config\.http2: this exporter serves HTTP\/1\.1 only/)]);
  });

  it('maps each of the five client_auth_type values (and the old RequireClientCert) to Node', async () => {
    const cases = {
      NoClientCert: { requestCert: false, rejectUnauthorized: false, requireCert: false, verifyIfGiven: false },
      RequestClientCert: { requestCert: true, rejectUnauthorized: false, requireCert: false, verifyIfGiven: false },
      RequireAnyClientCert: { requestCert: true, rejectUnauthorized: false, requireCert: true, verifyIfGiven: false },
      RequireClientCert: { requestCert: true, rejectUnauthorized: false, requireCert: true, verifyIfGiven: false },
      VerifyClientCertIfGiven: { requestCert: true, rejectUnauthorized: false, requireCert: false, verifyIfGiven: true },
      RequireAndVerifyClientCert: { requestCert: true, rejectUnauthorized: true, requireCert: false, verifyIfGiven: false },
    };
    for (const [type, auth] of Object.entries(cases)) {
      const web = await load(`auth-${type}.yml`, `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: ${type}\n`);
      expect(web.tls?.policy.auth, type).toEqual(auth);
    }
  });

  it('takes cert and key inline, and serves plain HTTP for a tls_server_config without certificate (as Go)', async () => {
    const { readFileSync } = await import('node:fs');
    const indent = (pem: string) => pem.trimEnd().replace(/\n/g, '\n    ');
    const inline = await load('inline.yml', `tls_server_config:\n  cert: |\n    ${indent(readFileSync(join(dir, 'cert.pem'), 'utf8'))}\n  key: |\n    ${indent(readFileSync(join(dir, 'key.pem'), 'utf8'))}\n`);
    expect(inline.tls?.options.key).toContain('PRIVATE KEY');
    expect((await load('versions-only.yml', 'tls_server_config:\n  min_version: TLS13\nhttp_server_config:\nbasic_auth_users:\n')).tls).toBeUndefined();
  });

  it('refuses what Node cannot do, and what exporter-toolkit refuses, each at file:line:col with why', async () => {
    const file = join(dir, 'bad.yml');
    const found = await problems(
      'bad.yml',
      `tls_server_config:
  cert_file: cert.pem
  key_file: other-key.pem
  min_version: TLS10
  cipher_suites:
    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    - TLS_RSA_WITH_RC4_128_SHA
    - ECDHE-RSA-AES128-GCM-SHA256
  curve_preferences: [X448]
  client_ca_file: missing-ca.pem
  client_allowed_sans: [a]
http_server_config:
  headers:
    X-Frame-Options: allow-from
rate_limit: { interval: 1s, burst: 0 }
`,
    );
    expect(found).toEqual([
      `${file}:4:16: min_version TLS10: Node's OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level, which this exporter does not lower; use TLS12 or TLS13`,
      `${file}:7:7: cipher suite "TLS_RSA_WITH_RC4_128_SHA" is one of Go's insecure suites (RC4, 3DES, CBC_SHA256), which exporter-toolkit refuses too: remove it`,
      expect.stringMatching(new RegExp(`^${file}:8:7: unknown cipher suite "ECDHE-RSA-AES128-GCM-SHA256": use Go's crypto/tls names, one of TLS_RSA_WITH_AES_128_CBC_SHA, `)),
      `${file}:9:23: unknown curve "X448": exporter-toolkit accepts CurveP256, CurveP384, CurveP521, X25519`,
      `${file}:10:19: a client CA is set but client_auth_type is NoClientCert: set client_auth_type (RequireAndVerifyClientCert checks client certificates against the CA)`,
      `${file}:10:19: cannot read client_ca_file ${join(dir, 'missing-ca.pem')}: ENOENT`,
      `${file}:11:24: client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert`,
      `${file}:14:22: X-Frame-Options must be one of deny, sameorigin (as exporter-toolkit checks)`,
      `${file}:15:36: rate_limit.burst 0 with an interval would refuse every request: set burst to 1 or more`,
    ]);
    expect(await problems('mismatch.yml', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: other-key.pem\n')).toEqual([
      expect.stringMatching(/mismatch\.yml:2:14: Node cannot use this certificate, key and CA: .*key values mismatch/),
    ]);
    expect(await problems('both.yml', 'tls_server_config:\n  cert: x\n  cert_file: cert.pem\n  key_file: key.pem\n')).toEqual([expect.stringMatching(/both\.yml:3:14: set either cert or cert_file, not both$/)]);
    expect(await problems('nokey.yml', 'tls_server_config:\n  cert_file: cert.pem\n')).toEqual([expect.stringMatching(/nokey\.yml:2:3: tls_server_config: missing one of key or key_file$/)]);
  });

  it('refuses an unknown key and a plain password at their place, without quoting the password', async () => {
    const found = await problems('keys.yml', `basic_auth_users:\n  prometheus: plaintext-pw\nhttp_server_config:\n  http3: true\n`);
    expect(found).toEqual([expect.stringMatching(/keys\.yml:2:15: basic_auth_users\.prometheus: must be a bcrypt hash$/), expect.stringMatching(/keys\.yml:4:3: unknown key "http3"$/)]);
    expect(found.join('\n')).not.toContain('plaintext-pw');
  });

  it("reads rate_limit.interval as Go's durations", () => {
    expect(parseGoDuration('100ms')).toBe(100);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('1d')).toBeUndefined();
  });
});
