import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `--web.config.file` as exporter-toolkit has it: re-read on SIGHUP and POST /-/reload, certificate
 * paths relative to the file, client certificate policies, headers, rate_limit, several listen addresses.
 */
const CLI = join(import.meta.dirname, '../../dist/cli.js');
const HEALTHCHECK = join(import.meta.dirname, '../../dist/healthcheck.js');
const dir = mkdtempSync(join(tmpdir(), 'kkt-web-reload-'));
const children: ChildProcess[] = [];
let ca: Buffer;

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A key and a certificate signed by the test CA, with these subject alternative names. */
function issue(name: string, san: string): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
}

const hash = (password: string) => bcrypt.hashSync(password, 4);
const pem = (name: string) => readFileSync(join(dir, name));

interface Exporter {
  child: ChildProcess;
  urls: string[];
  output: () => string;
}

/** Starts the exporter from the repository folder (not the web config's) and waits for one `listening` line per address. */
function startExporter(args: string[], listeners = 1): Promise<Exporter> {
  const child = spawn(process.execPath, [CLI, `--config.file=${join(dir, 'kkt.yml')}`, '--log.format=json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
      const urls = [...out.matchAll(/"url":"(https?:\/\/127\.0\.0\.1:\d+)"/g)].map((m) => m[1] as string);
      if (urls.length === listeners) resolve({ child, urls, output: () => out });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  peerCn: string | undefined;
}

/** One request on a new connection, so that each sees the certificate and policy in force now. */
function send(url: string, opts: { method?: string; auth?: string; cert?: string } = {}): Promise<Answer> {
  const tls = url.startsWith('https:');
  const options = { method: opts.method ?? 'GET', auth: opts.auth, agent: false as const, ...(tls && { ca, ...(opts.cert && { cert: pem(`${opts.cert}.pem`), key: pem(`${opts.cert}-key.pem`) }) }) };
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
      const peerCn = tls ? ((res.socket as TLSSocket).getPeerCertificate().subject?.CN as string | undefined) : undefined;
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, peerCn }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

beforeAll(() => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
  ca = pem('ca.pem');
  issue('server-a', 'IP:127.0.0.1');
  issue('server-b', 'IP:127.0.0.1');
  issue('prometheus', 'DNS:prometheus.example');
  issue('intruder', 'DNS:intruder.example');
  // Signed by no CA the exporter knows.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'stranger-key.pem', '-out', 'stranger.pem', '-days', '1', '-subj', '/CN=stranger', '-addext', 'subjectAltName=DNS:prometheus.example');
  writeFileSync(join(dir, 'kkt.yml'), 'sources: []\n');
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Certificate paths relative to the web config's folder, as exporter-toolkit reads them. */
const tlsWith = (server: string, extra = '') => `tls_server_config:\n  cert_file: ${server}.pem\n  key_file: ${server}-key.pem\n${extra}`;
const webYml = join(dir, 'web.yml');

describe('--web.config.file is re-read on reload', () => {
  let exporter: Exporter;
  let base: string;

  beforeAll(async () => {
    writeFileSync(webYml, `${tlsWith('server-a')}basic_auth_users:\n  prometheus: "${hash('first-pw')}"\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`);
    exporter = await startExporter([`--web.config.file=${webYml}`, '--web.listen-address=127.0.0.1:0']);
    base = exporter.urls[0] as string;
  });

  it('serves the certificate named relative to the web config, and its headers on every answer', async () => {
    const ok = await send(`${base}/metrics`, { auth: 'prometheus:first-pw' });
    expect([ok.status, ok.peerCn, ok.headers['x-frame-options']]).toEqual([200, 'server-a', 'deny']);
    const refused = await send(`${base}/metrics`);
    expect([refused.status, refused.headers['x-frame-options']]).toEqual([401, 'deny']);
    expect((await send(`${base}/nowhere`, { auth: 'prometheus:first-pw' })).headers['x-frame-options']).toBe('deny');
  });

  it('rotates a password on SIGHUP without a restart', async () => {
    writeFileSync(webYml, `${tlsWith('server-a')}basic_auth_users:\n  prometheus: "${hash('second-pw')}"\n`);
    exporter.child.kill('SIGHUP');
    await until('the web config to load', () => exporter.output().includes('"msg":"web config loaded"'));
    expect((await send(`${base}/metrics`, { auth: 'prometheus:first-pw' })).status).toBe(401);
    expect((await send(`${base}/metrics`, { auth: 'prometheus:second-pw' })).status).toBe(200);
  });

  it('rotates the certificate on POST /-/reload, for the connections made after it', async () => {
    writeFileSync(webYml, `${tlsWith('server-b')}basic_auth_users:\n  prometheus: "${hash('second-pw')}"\n`);
    const reload = await send(`${base}/-/reload`, { method: 'POST', auth: 'prometheus:second-pw' });
    expect([reload.status, reload.body]).toEqual([200, 'config reloaded\nweb config reloaded\n']);
    expect((await send(`${base}/-/healthy`, { auth: 'prometheus:second-pw' })).peerCn).toBe('server-b');
  });

  it('keeps the web config in force when the new one is bad, says why in the answer and the log, and never the password', async () => {
    const loadedBefore = count(exporter.output(), '"msg":"web config loaded"');
    writeFileSync(webYml, `${tlsWith('server-a')}basic_auth_users:\n  prometheus: plaintext-pw\n`);
    const reload = await send(`${base}/-/reload`, { method: 'POST', auth: 'prometheus:second-pw' });
    expect(reload.status).toBe(500);
    expect(reload.body).toBe(`config reloaded\nfailed to reload web config, keeping the previous one: ${webYml}:5:15: basic_auth_users.prometheus: must be a bcrypt hash\n`);
    await until('the failure to be logged', () => exporter.output().includes('"msg":"web config not loaded; keeping the previous one"'));
    expect(exporter.output()).not.toContain('plaintext-pw');
    const after = await send(`${base}/metrics`, { auth: 'prometheus:second-pw' });
    expect([after.status, after.peerCn]).toEqual([200, 'server-b']);
    expect(count(exporter.output(), '"msg":"web config loaded"')).toBe(loadedBefore);
  });

  it('refuses to switch between HTTPS and HTTP on reload, keeping HTTPS', async () => {
    writeFileSync(webYml, `basic_auth_users:\n  prometheus: "${hash('second-pw')}"\n`);
    const reload = await send(`${base}/-/reload`, { method: 'POST', auth: 'prometheus:second-pw' });
    expect(reload.status).toBe(500);
    expect(reload.body).toContain('tls_server_config no longer turns TLS on: switching between HTTP and HTTPS needs a restart');
    expect((await send(`${base}/-/healthy`, { auth: 'prometheus:second-pw' })).status).toBe(200);
  });

  it('lets the health check find the certificate from / (relative paths against the web config, not the working directory)', () => {
    writeFileSync(webYml, `${tlsWith('server-b')}basic_auth_users:\n  prometheus: "${hash('second-pw')}"\n`);
    const port = new URL(base).port;
    const r = spawnSync(process.execPath, [HEALTHCHECK, `--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${webYml}`], { cwd: '/', encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^healthy: https:\/\/127\.0\.0\.1:\d+\/-\/healthy answered 401/);
  });
});

describe('client certificates (client_auth_type, client_ca_file, client_allowed_sans)', () => {
  const mtlsYml = join(dir, 'mtls.yml');
  let exporter: Exporter;
  let base: string;

  beforeAll(async () => {
    writeFileSync(mtlsYml, tlsWith('server-a', '  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: [prometheus.example]\n'));
    exporter = await startExporter([`--web.config.file=${mtlsYml}`, '--web.listen-address=127.0.0.1:0']);
    base = exporter.urls[0] as string;
  });

  it('RequireAnyClientCert with client_allowed_sans: answers a certificate carrying an allowed SAN, closes on any other and on none', async () => {
    expect((await send(`${base}/-/healthy`, { cert: 'prometheus' })).status).toBe(200);
    expect((await send(`${base}/-/healthy`, { cert: 'stranger' })).status).toBe(200); // not verified: any certificate with the SAN
    await expect(send(`${base}/-/healthy`, { cert: 'intruder' })).rejects.toThrow();
    await expect(send(`${base}/-/healthy`)).rejects.toThrow();
  });

  it('VerifyClientCertIfGiven, after a reload: answers no certificate and a verified one, closes on one the CA did not sign', async () => {
    writeFileSync(mtlsYml, tlsWith('server-a', '  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n'));
    const reload = await send(`${base}/-/reload`, { method: 'POST', cert: 'prometheus' });
    expect(reload.body).toBe('config reloaded\nweb config reloaded\n');
    expect((await send(`${base}/-/healthy`)).status).toBe(200);
    expect((await send(`${base}/-/healthy`, { cert: 'intruder' })).status).toBe(200);
    await expect(send(`${base}/-/healthy`, { cert: 'stranger' })).rejects.toThrow();
  });

  it('RequireAndVerifyClientCert, after a reload: answers a certificate the CA signed only', async () => {
    writeFileSync(mtlsYml, tlsWith('server-a', '  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n'));
    exporter.child.kill('SIGHUP');
    await until('the web config to load', () => count(exporter.output(), '"msg":"web config loaded"') === 2);
    expect((await send(`${base}/-/healthy`, { cert: 'intruder' })).status).toBe(200);
    await expect(send(`${base}/-/healthy`, { cert: 'stranger' })).rejects.toThrow();
    await expect(send(`${base}/-/healthy`)).rejects.toThrow();
  });
});

describe('several --web.listen-address, and rate_limit', () => {
  it('listens on each address, the rate limit shared by all', async () => {
    const limited = join(dir, 'limited.yml');
    writeFileSync(limited, 'rate_limit:\n  interval: 1h\n  burst: 2\n');
    const exporter = await startExporter([`--web.config.file=${limited}`, '--web.listen-address=127.0.0.1:0', '--web.listen-address=127.0.0.1:0'], 2);
    const [a, b] = exporter.urls as [string, string];
    expect(a).not.toBe(b);
    expect((await send(`${a}/-/healthy`)).status).toBe(200);
    expect((await send(`${b}/-/healthy`)).status).toBe(200);
    const third = await send(`${a}/-/healthy`);
    expect([third.status, third.body]).toEqual([429, 'Too Many Requests\n']);
  });
});

describe('--config.check with --web.config.file', () => {
  const check = (web: string) => spawnSync(process.execPath, [CLI, '--config.check', `--config.file=${join(dir, 'kkt.yml')}`, `--web.config.file=${web}`], { encoding: 'utf8', timeout: 20_000 });

  it('checks the web config too: OK with what it turns on, or exit 1 with each problem at file:line:col', () => {
    const good = join(dir, 'check-good.yml');
    writeFileSync(good, `${tlsWith('server-a')}basic_auth_users:\n  prometheus: "${hash('x')}"\n`);
    const ok = check(good);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`${good}: OK (TLS, 1 basic auth user)`);

    const bad = join(dir, 'check-bad.yml');
    writeFileSync(bad, tlsWith('server-a', '  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n'));
    const refused = check(bad);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('kkt.yml: OK');
    expect(refused.stderr).toContain(`${bad}:4:19: cipher suite "TLS_RSA_WITH_RC4_128_SHA" is one of Go's insecure suites`);
  });
});
