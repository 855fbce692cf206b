import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The container's HEALTHCHECK command, as built into the image, against real exporters on other ports. */
const CLI = join(import.meta.dirname, '../../dist/cli.js');
const HEALTHCHECK = join(import.meta.dirname, '../../dist/healthcheck.js');
const dir = mkdtempSync(join(tmpdir(), 'kkt-health-'));
const PASSWORD = 'scrape-pw-7f3a';
const HASH = bcrypt.hashSync(PASSWORD, 4);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** dist/cli.js on a fixed port other than 10054 (so that its command line names the port), until it logs the URL. */
async function startExporter(args: string[]): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, `--config.file=${join(dir, 'kkt.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.format=json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
      if (/"msg":"listening"/.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exporter exited ${code}: ${out}`)));
  });
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function healthcheck(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  // Not spawnSync: this process must keep reading the pipes the exporters log to.
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HEALTHCHECK, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** What the check prints: at most one line, and nothing of the web config's secrets. */
function expectOneSafeLine(text: string) {
  expect(text.trimEnd().split('\n')).toHaveLength(1);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(HASH);
  expect(text).not.toContain('$2');
}

/** Root with unshare(1), nsenter(1) and pgrep(1): the exporter can run as PID 1 of its own PID namespace, as in a container. */
const canUnshare =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0 &&
  spawnSync('nsenter', ['--version']).status === 0 &&
  spawnSync('pgrep', ['--version']).status === 0;

const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

beforeAll(() => {
  const openssl = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=kkt.example.org', '-addext', 'subjectAltName=DNS:kkt.example.org'],
    { encoding: 'utf8' },
  );
  if (openssl.status !== 0) throw new Error(`openssl failed: ${openssl.stderr}`);
  const tls = `tls_server_config:\n  cert_file: ${join(dir, 'cert.pem')}\n  key_file: ${join(dir, 'key.pem')}\n`;
  writeFileSync(join(dir, 'tls.yml'), tls);
  writeFileSync(join(dir, 'tls-auth-open.yml'), `${tls}basic_auth_users:\n  prometheus: "${HASH}"\nunauthenticated_paths: [/-/healthy]\n`);
  writeFileSync(join(dir, 'tls-auth-closed.yml'), `${tls}basic_auth_users:\n  prometheus: "${HASH}"\n`);
  writeFileSync(join(dir, 'mtls.yml'), `${tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(dir, 'cert.pem')}\n`);
  writeFileSync(join(dir, 'kkt.yml'), 'sources: []\n');
});

describe('dist/healthcheck.js (the image HEALTHCHECK)', () => {
  it('passes against a TLS exporter on another port, reading its flags from the running process (as in the container)', async () => {
    const app = await startExporter([`--web.config.file=${join(dir, 'tls.yml')}`]);
    running.push(app);
    // The certificate is for kkt.example.org, not 127.0.0.1: the check does not verify it on its own address.
    const r = await healthcheck([`--pid=${app.child.pid}`]);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it.runIf(canUnshare)('with no flags, reads them from PID 1, as in the container (in a PID namespace of its own)', async () => {
    const port = await freePort();
    const ns = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, CLI, `--config.file=${join(dir, 'kkt.yml')}`, `--web.listen-address=:${port}`, `--web.config.file=${join(dir, 'tls-auth-open.yml')}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stopped = new Promise((resolve) => ns.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        ns.stderr.on('data', (c: Buffer) => /msg=listening/.test(c.toString()) && resolve());
        ns.once('exit', (code) => reject(new Error(`unshare exited ${code}`)));
      });
      const exporterPid = spawnSync('pgrep', ['-P', String(ns.pid)], { encoding: 'utf8' }).stdout.trim();
      expect(exporterPid).toMatch(/^\d+$/);
      const inside = (args: string[]) => spawnSync('nsenter', ['--target', exporterPid, '--pid', '--mount', process.execPath, HEALTHCHECK, ...args], { encoding: 'utf8' });
      expect(inside([])).toMatchObject({ status: 0, stdout: '', stderr: '' });
      // Flags given to the check win over PID 1's: plain HTTP against this TLS exporter fails.
      expect(inside([`--web.listen-address=127.0.0.1:${port}`]).status).toBe(1);
      process.kill(Number(exporterPid), 'SIGTERM');
    } finally {
      ns.kill('SIGKILL');
      await stopped;
    }
  });

  it('takes only the exporter for the exporter, not a `timeout` wrapper whose command line names it', async () => {
    const port = await freePort();
    const wrapper = spawn('timeout', ['60', process.execPath, '--expose-gc', CLI, `--config.file=${join(dir, 'kkt.yml')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stopped = new Promise((resolve) => wrapper.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        wrapper.stderr.on('data', (c: Buffer) => /msg=listening/.test(c.toString()) && resolve());
        wrapper.once('exit', (code) => reject(new Error(`timeout exited ${code}`)));
      });
      const r = await healthcheck([`--pid=${wrapper.pid}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`kkt-exporter healthcheck: process ${wrapper.pid} is not a running kkt-exporter\n`);
      // node --expose-gc .../dist/cli.js, as the image's ENTRYPOINT and the bin's shebang run it, is the exporter.
      const exporterPid = spawnSync('pgrep', ['-P', String(wrapper.pid)], { encoding: 'utf8' }).stdout.trim();
      expect(await healthcheck([`--pid=${exporterPid}`])).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      wrapper.kill('SIGTERM');
      await stopped;
    }
  });

  it.runIf(canUnshare)('with no flags, finds the one exporter under an entrypoint script that runs it through `timeout` (in a PID namespace of its own)', async () => {
    const port = await freePort();
    const entrypoint = join(dir, 'entrypoint.sh');
    writeFileSync(entrypoint, `timeout 60 ${process.execPath} ${CLI} --config.file=${join(dir, 'kkt.yml')} --web.listen-address=127.0.0.1:${port}\nexit $?\n`);
    // PID 1 is the script's shell, PID 2 timeout, PID 3 the exporter: timeout's command line names the exporter's script and flags too.
    const ns = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', entrypoint], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stopped = new Promise((resolve) => ns.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        ns.stderr.on('data', (c: Buffer) => /msg=listening/.test(c.toString()) && resolve());
        ns.once('exit', (code) => reject(new Error(`unshare exited ${code}`)));
      });
      const shellPid = spawnSync('pgrep', ['-P', String(ns.pid)], { encoding: 'utf8' }).stdout.trim();
      expect(shellPid).toMatch(/^\d+$/);
      const inside = spawnSync('nsenter', ['--target', shellPid, '--pid', '--mount', process.execPath, HEALTHCHECK], { encoding: 'utf8' });
      expect(inside).toMatchObject({ status: 0, stdout: '', stderr: '' });
    } finally {
      ns.kill('SIGKILL');
      await stopped;
    }
  });

  it('passes with the flags given to it, and fails in one line when they do not match the exporter', async () => {
    const app = await startExporter([`--web.config.file=${join(dir, 'tls.yml')}`]);
    running.push(app);
    const ok = await healthcheck([`--web.listen-address=:${app.port}`, `--web.config.file=${join(dir, 'tls.yml')}`]);
    expect(ok).toEqual({ status: 0, stdout: '', stderr: '' });

    const noTls = await healthcheck([`--web.listen-address=127.0.0.1:${app.port}`]);
    expect(noTls.status).toBe(1);
    expectOneSafeLine(noTls.stderr);
    expect(noTls.stderr).toMatch(new RegExp(`^kkt-exporter healthcheck: http://127\\.0\\.0\\.1:${app.port}/-/healthy: `));
  });

  it('fails, in one line, once the exporter has stopped', async () => {
    const app = await startExporter([`--web.config.file=${join(dir, 'tls.yml')}`]);
    running.push(app);
    const args = [`--web.listen-address=127.0.0.1:${app.port}`, `--web.config.file=${join(dir, 'tls.yml')}`];
    expect((await healthcheck(args)).status).toBe(0);
    await app.stop();
    const r = await healthcheck(args);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expectOneSafeLine(r.stderr);
    expect(r.stderr).toBe(`kkt-exporter healthcheck: https://127.0.0.1:${app.port}/-/healthy: connection refused (is the exporter running, and listening there?)\n`);
    // And --pid of a process that is gone, or is not the exporter.
    expect((await healthcheck([`--pid=${app.child.pid}`])).stderr).toMatch(/is not a running kkt-exporter/);
    expect((await healthcheck([`--pid=${process.pid}`])).status).toBe(1);
  });

  it('passes with basic auth when /-/healthy is in unauthenticated_paths, printing nothing', async () => {
    const app = await startExporter([`--web.config.file=${join(dir, 'tls-auth-open.yml')}`]);
    running.push(app);
    expect(await healthcheck([`--pid=${app.child.pid}`])).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('with basic auth on /-/healthy, passes on the 401 and says how to check fully', async () => {
    const app = await startExporter([`--web.config.file=${join(dir, 'tls-auth-closed.yml')}`]);
    running.push(app);
    const r = await healthcheck([`--pid=${app.child.pid}`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expectOneSafeLine(r.stdout);
    expect(r.stdout).toMatch(/answered 401; add \/-\/healthy to unauthenticated_paths/);
  });

  it('with client certificates required, passes on the completed TLS handshake and says so', async () => {
    const app = await startExporter([`--web.config.file=${join(dir, 'mtls.yml')}`]);
    running.push(app);
    const r = await healthcheck([`--pid=${app.child.pid}`]);
    expect(r.status).toBe(0);
    expectOneSafeLine(r.stdout);
    expect(r.stdout).toMatch(/required a client certificate/);
  });

  it('passes against a plain HTTP exporter, and refuses an unreadable web config or bad flags in one line', async () => {
    const app = await startExporter([]);
    running.push(app);
    expect(await healthcheck([`--pid=${app.child.pid}`])).toEqual({ status: 0, stdout: '', stderr: '' });
    const missing = await healthcheck([`--web.listen-address=127.0.0.1:${app.port}`, `--web.config.file=${join(dir, 'nope.yml')}`]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.yml:1:1: cannot read file: ENOENT/);
    writeFileSync(join(dir, 'broken.yml'), `basic_auth_users:\n  prometheus: "${HASH}"\n  : [\n`);
    const broken = await healthcheck([`--web.listen-address=127.0.0.1:${app.port}`, `--web.config.file=${join(dir, 'broken.yml')}`]);
    expect(broken.status).toBe(1);
    expectOneSafeLine(broken.stderr);
    const bad = await healthcheck(['--web.listen-address=nonsense']);
    expect(bad.status).toBe(1);
    expectOneSafeLine(bad.stderr);
  });
});
