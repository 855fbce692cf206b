// Shared helpers of the benchmark scripts: child processes on loopback, CPU time from /proc, pinning
// to cores, the statistics of paired measurements.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TICKS = 100; // USER_HZ on Linux

/** Starts `node script args`, resolves with the child and the first line matching `ready`. */
export function startNode(script, args, ready, env = {}, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk.toString();
      const m = ready.exec(out);
      if (!m) return;
      // Ready: keep draining the child's output, without keeping it.
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.stdout.resume();
      child.stderr.resume();
      resolve({ child, match: m });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${out}`)));
  });
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function statusKb(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Resident set size of a process in MB, now and at its peak. */
export const rssMb = (pid) => statusKb(pid, 'VmRSS') / 1024;
export const peakRssMb = (pid) => statusKb(pid, 'VmHWM') / 1024;

export async function timedGet(url, headers = {}) {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, text, seconds: (performance.now() - t0) / 1000 };
}

export function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

export function table(rows) {
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(width[i])).join(' | ')} |`;
  return [line(cols), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

/**
 * Starts the exporter as its command does (`node --expose-gc dist/cli.js`: see src/cli.ts), or with
 * the Node options in EXPORTER_NODE_ARGS instead, to measure Node's own knobs (docs/benchmark.md).
 */
export function startExporter(args, ready = /"url":"([^"]+)"/) {
  const nodeArgs = process.env.EXPORTER_NODE_ARGS?.split(' ').filter(Boolean) ?? ['--expose-gc'];
  return startNode(join(ROOT, 'dist/cli.js'), args, ready, {}, nodeArgs);
}

/** The CPUs this process may run on, from its affinity list (`0-1`, `0,2-3`). */
function allowedCpus() {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) return [];
  return m[1].split(',').flatMap((range) => {
    const [from, to = from] = range.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/**
 * Where the UKM pairs run. With BENCH_PIN=1: the simulator on one core, the process under test (the
 * floor's loop and the exporter, in turn) on another. Off by default: pinned, every thread of the
 * exporter (its GC helpers, the thread pool that gzips) shares the core its event loop needs, which
 * the one-threaded floor loop does not feel, and the pairs' spread was 5 times wider
 * (docs/benchmark.md). Off too on a single CPU, or without `taskset` (util-linux); `why` says which.
 */
export function pinning() {
  if (process.env.BENCH_PIN !== '1') return { on: false, why: 'BENCH_PIN=1 not set' };
  const cpus = allowedCpus();
  if (cpus.length < 2) return { on: false, why: `${cpus.length} CPU(s) available` };
  if (spawnSync('taskset', ['-V']).error) return { on: false, why: 'no taskset' };
  return { on: true, simulator_cpu: cpus[0], under_test_cpu: cpus[1] };
}

/** Binds every thread of a running process, and the threads it starts later, to one CPU. */
export function pin(pid, cpu) {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpu} ${pid}: ${r.stderr || r.error}`);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The median, spread and worst of a list of ratios (worst = largest), rounded as the table shows them. */
export function ratioStats(ratios) {
  const r3 = (x) => +x.toFixed(3);
  return { median: r3(median(ratios)), min: r3(Math.min(...ratios)), max: r3(Math.max(...ratios)), each: ratios.map(r3) };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const UKM_ENDPOINT_NAMES = ['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight'];

/** A UKM register's full reading, every endpoint read, as the renderer's benchmarks feed it. */
export function ukmReading(i, { kkt, labels, url }) {
  return {
    kkt,
    labels,
    up: true,
    info: { url },
    samples: [
      { metric: 'kkt_paper_present', value: 1 },
      { metric: 'kkt_unsent_docs', value: i % 7 },
      { metric: 'kkt_receipt_open', value: 0 },
      { metric: 'kkt_receipt_last_closed_timestamp_seconds', value: 1795380000 + i },
      { metric: 'kkt_user_role_id', value: i % 13 },
      { metric: 'kkt_vision_connected', value: 1 },
      { metric: 'kkt_scale_weight', value: 0.25 },
    ],
    endpoints: UKM_ENDPOINT_NAMES.map((endpoint) => ({ endpoint, success: true })),
  };
}
