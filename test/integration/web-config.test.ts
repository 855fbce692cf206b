import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUEUED_PER_CLIENT } from '../../src/server/basic-auth.js';

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

function startExporter(webConfig: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [CLI, `--config.file=${join(dir, 'kkt.yml')}`, `--web.config.file=${webConfig}`, '--web.listen-address=127.0.0.1:0', '--log.format=json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(https?:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve({ child, base: m[1] as string });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
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
  ({ child, base } = await startExporter(join(dir, 'web.yml')));
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

const PROMETHEUS = '127.0.0.1';
/** Whether this host routes all of 127/8 to loopback (Linux does), so that a flood can come from another address. */
const hasLoopbackAlias = await new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port: 9, localAddress: '127.0.0.2' });
  s.on('connect', () => {
    s.destroy();
    resolve(true);
  });
  s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
});
const ATTACKER = hasLoopbackAlias ? '127.0.0.2' : PROMETHEUS;

interface Answer {
  status: number;
  ms: number;
  end: number;
  retryAfter: string | undefined;
}

/** Basic auth at cost 10 (about 55-85 ms a check), plain HTTP so that TLS handshakes do not blur the timings. */
describe('basic auth under load', () => {
  let load: ChildProcess;
  let loadBase = '';

  function get(auth: string, from = PROMETHEUS): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${loadBase}/metrics`, { agent: false, auth, localAddress: from }, (res) => {
        res.resume();
        res.on('end', () => {
          const end = performance.now();
          resolve({ status: res.statusCode ?? 0, ms: end - started, end, retryAfter: res.headers['retry-after'] });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  const flood = (tag: string, n = 50, from = ATTACKER) => Array.from({ length: n }, (_, i) => get(`prometheus:wrong-${tag}-${i}`, from));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'web-load.yml'),
      `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('scrape-pw', 10)}"\n  backup: "${bcrypt.hashSync('backup-pw', 10)}"\n`,
    );
    ({ child: load, base: loadBase } = await startExporter(join(dir, 'web-load.yml')));
  });

  afterAll(() => {
    load?.kill('SIGKILL');
  });

  it('answers a cached scrape within 1 s while 50 wrong passwords arrive', async () => {
    expect((await get('prometheus:scrape-pw')).status).toBe(200);
    const wrong = flood('a');
    const scrape = await get('prometheus:scrape-pw');
    const answers = await Promise.all(wrong);
    expect(scrape.status).toBe(200);
    expect(scrape.ms).toBeLessThan(1000);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    // The scrape was answered while the worker was still hashing the flood.
    expect(scrape.end).toBeLessThan(Math.max(...answers.filter((a) => a.status === 401).map((a) => a.end)));
  });

  // The flood's address holds at most 4 of the 8 queue places, so this waits for at most 4 checks and its own.
  // Counted in checks rather than milliseconds, which depend on how busy the machine is: one more flood
  // check, queued behind this one, may end while this scrape is still being answered.
  it.skipIf(!hasLoopbackAlias)('checks a not yet cached password during the flood, behind at most the flood\'s share of the queue', async () => {
    const wrong = flood('b');
    const first = await get('backup:backup-pw');
    const answers = await Promise.all(wrong);
    const again = await get('backup:backup-pw');
    expect(first.status).toBe(200);
    const checkedBefore = answers.filter((a) => a.status === 401 && a.end < first.end).length;
    expect(checkedBefore).toBeLessThanOrEqual(MAX_QUEUED_PER_CLIENT + 1);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    expect(again.status).toBe(200);
  });

  it('takes as long for an unknown user as for a known user with a wrong password', async () => {
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      const k = await get(`prometheus:timing-${i}`);
      const u = await get(`nobody-${i}:timing-${i}`);
      expect([k.status, u.status]).toEqual([401, 401]);
      known.push(k.ms);
      unknown.push(u.ms);
    }
    const [mk, mu] = [median(known), median(unknown)];
    expect(Math.min(mk, mu)).toBeGreaterThan(25);
    expect(Math.max(mk, mu) / Math.min(mk, mu)).toBeLessThan(2);
  });

  it('remembers a wrong password, so that repeating it costs no hash', async () => {
    const first = await get('prometheus:repeated-wrong');
    const repeats: number[] = [];
    for (let i = 0; i < 7; i++) repeats.push((await get('prometheus:repeated-wrong')).ms);
    expect(first.status).toBe(401);
    expect(median(repeats)).toBeLessThan(first.ms / 2);
  });

  it('refuses the checks beyond the queue at once with 429, without hashing them', async () => {
    const bcryptMs = (await get('prometheus:calibrate')).ms;
    const started = performance.now();
    const answers = await Promise.all(flood('c', 30, PROMETHEUS));
    const total = performance.now() - started;
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(15);
    expect(refused.every((a) => a.retryAfter === '1')).toBe(true);
    // Hashing all 30 one after another would take 30 checks' time.
    expect(total).toBeLessThan(15 * bcryptMs);
  });

  it('exits 0 on SIGTERM once the bcrypt worker has run', async () => {
    const exited = new Promise<number | null>((resolve) => load.once('exit', (code) => resolve(code)));
    load.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
