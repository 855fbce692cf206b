import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'kkt-web-'));
let child: ChildProcess;
let base = '';
let ca: Buffer;

function httpsGet(path: string, opts: { auth?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { ca, auth: opts.auth, maxVersion: opts.maxVersion }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (openssl.status !== 0) throw new Error(`openssl failed: ${openssl.stderr}`);
  ca = readFileSync(join(dir, 'cert.pem'));
  writeFileSync(
    join(dir, 'web.yml'),
    `tls_server_config:\n  cert_file: ${join(dir, 'cert.pem')}\n  key_file: ${join(dir, 'key.pem')}\n  min_version: TLS13\nbasic_auth_users:\n  prometheus: "${bcrypt.hashSync('scrape-pw', 4)}"\nunauthenticated_paths: [/-/healthy]\n`,
  );
  writeFileSync(join(dir, 'kkt.yml'), 'sources: []\n');
  child = spawn(process.execPath, [CLI, `--config.file=${join(dir, 'kkt.yml')}`, `--web.config.file=${join(dir, 'web.yml')}`, '--web.listen-address=127.0.0.1:0', '--log.format=json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(https:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
});

afterAll(() => {
  child?.kill('SIGKILL');
});

describe('--web.config.file (exporter-toolkit format)', () => {
  it('serves TLS and asks for basic auth', async () => {
    expect((await httpsGet('/metrics')).status).toBe(401);
    expect((await httpsGet('/metrics', { auth: 'prometheus:wrong' })).status).toBe(401);
    expect((await httpsGet('/metrics', { auth: 'nobody:scrape-pw' })).status).toBe(401);
    const ok = await httpsGet('/metrics', { auth: 'prometheus:scrape-pw' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('kkt_exporter_build_info');
    expect((await httpsGet('/probe?source=x', { auth: 'prometheus:scrape-pw' })).status).toBe(400);
  });

  it('leaves /-/healthy open only because the config lists it', async () => {
    expect((await httpsGet('/-/healthy')).status).toBe(200);
    expect((await httpsGet('/-/ready')).status).toBe(401);
  });

  it('refuses a client below min_version, and plain HTTP', async () => {
    await expect(httpsGet('/-/healthy', { maxVersion: 'TLSv1.2' })).rejects.toThrow();
    await expect(fetch(base.replace('https:', 'http:') + '/-/healthy')).rejects.toThrow();
  });

  it('exits 1 on a bad web config', () => {
    writeFileSync(join(dir, 'bad-web.yml'), 'basic_auth_users:\n  prometheus: plaintext-password\n');
    const r = spawnSync(process.execPath, [CLI, `--config.file=${join(dir, 'kkt.yml')}`, `--web.config.file=${join(dir, 'bad-web.yml')}`, '--web.listen-address=127.0.0.1:0'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/basic_auth_users\.prometheus: must be a bcrypt hash/);
    expect(r.stderr).not.toContain('plaintext-password');
  });
});
