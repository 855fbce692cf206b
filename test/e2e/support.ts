/** What the end-to-end tests share: child processes on loopback, free ports, polling, PromQL. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const ROOT = new URL('../../', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Fails at once, with the install hint, when a tool the test needs is not on the PATH. */
export function need(binary: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0) throw new Error(`${binary} not found: run scripts/install-test-deps.sh`);
}

/** The processes a test starts, stopped together at its end (SIGTERM, then SIGKILL after 5 s). */
export class Processes {
  private readonly children: ChildProcess[] = [];

  start(cmd: string, args: string[]): ChildProcess {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.resume();
    child.stderr?.resume();
    this.children.push(child);
    return child;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }
}

/** The first match of `re` in what `child` prints; fails if it exits first or says nothing in 20 s. */
export function firstLine(child: ChildProcess, re: RegExp): Promise<RegExpMatchArray> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} in: ${out}`)), 20_000);
    const on = (chunk: Buffer) => {
      out += chunk.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant PromQL query against a running Prometheus. */
export async function query(promUrl: string, expr: string): Promise<QueryResult[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: QueryResult[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data?.result ?? [];
}

/**
 * Starts Alertmanager and Prometheus on loopback, on the given ports, with these configs (written to
 * `dir`), and waits until both are ready. The rest of each config (jobs, rules, receivers) is the test's;
 * `promArgs` are Prometheus's further flags.
 */
export async function startPrometheusAndAlertmanager(processes: Processes, dir: string, ports: { prom: number; am: number }, prom: object, am: object, promArgs: string[] = []): Promise<void> {
  writeFileSync(join(dir, 'prometheus.yml'), stringify(prom));
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
  processes.start('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${ports.am}`, '--cluster.listen-address=']);
  processes.start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${ports.prom}`, ...promArgs]);
  const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok;
  await eventually('Prometheus and Alertmanager ready', async () => ((await ready(ports.prom)) && (await ready(ports.am)) ? true : undefined), 30_000);
}
