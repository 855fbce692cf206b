// Scenario 4: /probe against blackbox_exporter (Debian's prometheus-blackbox-exporter) on the same
// 1,000 simulated registers' paper endpoint: one probe per register per round, rounds 1 s apart,
// probes spread over each round as Prometheus spreads its targets. CPU from /proc/<pid>/stat.
// Three trials, ours then blackbox's in each; each ratio (CPU, p99) is the median of the three
// trials' ratios, so that one full garbage collection in one trial does not decide the bar.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, median, ROOT, sleep, startNode, stop, startExporter } from './lib.mjs';

const REGISTERS = 1000;
/** Rounds (1 s each) per trial and side: 20,000 probes, as the single measurement had before. */
const ROUNDS = 20;
const TRIALS = 3;
/** Between one side's trial and the other's, so neither meets the other's last requests at a till. */
const PAUSE_MS = 2000;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} never became ready`);
}

/**
 * Runs the rounds against `urlOf(i)` after one unmeasured warm-up round (connections, JIT), as a
 * running Prometheus would find them; returns per-probe latencies (ms) and the process's CPU seconds.
 */
async function rounds(pid, urlOf) {
  await Promise.all(Array.from({ length: REGISTERS }, (_, i) => fetch(urlOf(i)).then((r) => r.text())));
  await sleep(1000);
  const latencies = [];
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const pending = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < REGISTERS; i++) {
      const at = t0 + round * 1000 + (i * 1000) / REGISTERS;
      pending.push(
        new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now()))).then(async () => {
          const s = performance.now();
          const res = await fetch(urlOf(i));
          await res.text();
          latencies.push(performance.now() - s);
        }),
      );
    }
  }
  await Promise.all(pending);
  return { latencies, cpu: cpuSeconds(pid) - cpu0 };
}

const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];
const p99 = (xs) => pct(xs, 0.99);

export async function benchProbe() {
  const dir = mkdtempSync(join(tmpdir(), 'kkt-bench-'));
  const config = join(dir, 'ukm.yml');
  const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), [`--ukm=${REGISTERS}`, `--config-out=${config}`, '--endpoints=paper'], /"control":"([^"]+)"/);
  const control = sim.match[1];
  const registers = await (await fetch(`${control}/ukm`)).json();
  const exporter = await startExporter([`--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json']);
  const bbPort = await freePort();
  writeFileSync(join(dir, 'blackbox.yml'), 'modules:\n  ukm_paper:\n    prober: http\n    timeout: 5s\n    http:\n      method: GET\n      valid_status_codes: [200]\n      preferred_ip_protocol: ip4\n');
  const blackbox = spawn('prometheus-blackbox-exporter', [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${bbPort}`], { stdio: 'ignore' });
  const violationCount = async () => (await (await fetch(`${control}/stats`)).json()).ukm.violations;
  try {
    await waitReady(`http://127.0.0.1:${bbPort}/-/healthy`);
    const probes = REGISTERS * ROUNDS;
    const trials = [];
    // Only the violations during our own trials count: blackbox_exporter does not keep to the tills' limit.
    let violations = 0;
    for (let t = 0; t < TRIALS; t++) {
      const before = await violationCount();
      const ours = await rounds(exporter.child.pid, (i) => `${exporter.match[1]}/probe?source=stores&target=${registers[i].name}`);
      violations += (await violationCount()) - before;
      await sleep(PAUSE_MS);
      const theirs = await rounds(blackbox.pid, (i) => `http://127.0.0.1:${bbPort}/probe?module=ukm_paper&target=${encodeURIComponent(`${registers[i].url}/api/v1/status/paper`)}`);
      await sleep(PAUSE_MS);
      const oursCpu = (ours.cpu / probes) * 1000;
      const theirCpu = (theirs.cpu / probes) * 1000;
      trials.push({
        ours_cpu_s_per_1000: +oursCpu.toFixed(3),
        blackbox_cpu_s_per_1000: +theirCpu.toFixed(3),
        cpu_ratio: +(oursCpu / theirCpu).toFixed(2),
        ours_p50_ms: +pct(ours.latencies, 0.5).toFixed(2),
        blackbox_p50_ms: +pct(theirs.latencies, 0.5).toFixed(2),
        ours_p99_ms: +p99(ours.latencies).toFixed(2),
        blackbox_p99_ms: +p99(theirs.latencies).toFixed(2),
        p99_ratio: +(p99(ours.latencies) / p99(theirs.latencies)).toFixed(2),
      });
    }
    const med = (key) => median(trials.map((x) => x[key]));
    return {
      trials: TRIALS,
      probes_each_per_trial: probes,
      cpu_ratio: med('cpu_ratio'),
      p99_ratio: med('p99_ratio'),
      ours_cpu_s_per_1000: med('ours_cpu_s_per_1000'),
      blackbox_cpu_s_per_1000: med('blackbox_cpu_s_per_1000'),
      ours_p50_ms: med('ours_p50_ms'),
      blackbox_p50_ms: med('blackbox_p50_ms'),
      ours_p99_ms: med('ours_p99_ms'),
      blackbox_p99_ms: med('blackbox_p99_ms'),
      by_trial: trials,
      rate_violations: violations,
    };
  } finally {
    blackbox.kill('SIGTERM');
    await Promise.all([stop(exporter.child), stop(sim.child)]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchProbe());
