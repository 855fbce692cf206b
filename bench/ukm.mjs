// UKM whole fleet through /metrics, simulator and exporter in separate processes on loopback.
// Scenario 1 (one fleet, all 7 endpoints), 2 (an HA pair of scrapers) and 3 (scaling).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, peakRssMb, ROOT, startNode, stop, timedGet, startExporter } from './lib.mjs';

/**
 * 7 endpoints at one request per second take at least 6 s. Kept as a reported ratio; the bars are
 * relative to the floor (bench/floor.mjs), which measures what the wire alone costs on top of it.
 */
export const FULL_READ_SECONDS = 6;
const HEADERS = { 'X-Prometheus-Scrape-Timeout-Seconds': '10' };

/** Starts the simulator with `registers` UKM tills; it writes an exporter config for them to `config`. */
export async function startUkmSimulator(registers, extraArgs = []) {
  const config = join(mkdtempSync(join(tmpdir(), 'kkt-bench-')), 'ukm.yml');
  const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), [`--ukm=${registers}`, `--config-out=${config}`, ...extraArgs], /"control":"([^"]+)"/);
  return { sim, config, control: sim.match[1] };
}

export async function withUkmFleet(registers, fn, extraArgs = []) {
  const { sim, config } = await startUkmSimulator(registers, extraArgs);
  const exporter = await startExporter([`--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json', '--log.level=info']);
  try {
    return await fn({ control: sim.match[1], url: exporter.match[1], pid: exporter.child.pid, simPid: sim.child.pid });
  } finally {
    await Promise.all([stop(exporter.child), stop(sim.child)]);
  }
}

export async function violations(control) {
  return (await (await fetch(`${control}/stats`)).json()).ukm.violations;
}

/**
 * Scenarios 1 and 3: a warm-up scrape (new connections, cold JIT), then `rounds` scrapes of the
 * whole fleet 10 s apart, as Prometheus would scrape a running exporter.
 */
export async function benchUkmFleet(registers, rounds = 2) {
  return withUkmFleet(registers, async ({ control, url, pid }) => {
    const times = [];
    const cpus = [];
    let up = 0;
    const warmup = await timedGet(`${url}/metrics`, HEADERS);
    await new Promise((res) => setTimeout(res, Math.max(0, 10_000 - warmup.seconds * 1000)));
    for (let i = 0; i < rounds; i++) {
      const started = Date.now();
      const cpu0 = cpuSeconds(pid);
      const r = await timedGet(`${url}/metrics`, HEADERS);
      cpus.push(cpuSeconds(pid) - cpu0);
      times.push(r.seconds);
      up = r.text.split('\n').filter((l) => l.startsWith('kkt_up{') && l.endsWith(' 1')).length;
      await new Promise((res) => setTimeout(res, Math.max(0, 10_000 - (Date.now() - started))));
    }
    const worst = Math.max(...times);
    const cpuPerScrape = Math.max(...cpus);
    return {
      registers,
      requests_per_scrape: registers * 7,
      registers_up: up,
      warmup_scrape_s: +warmup.seconds.toFixed(2),
      worst_scrape_s: +worst.toFixed(3),
      ratio_to_6s: +(worst / FULL_READ_SECONDS).toFixed(3),
      cpu_s_per_scrape: +cpuPerScrape.toFixed(2),
      scrape_s: times.map((t) => +t.toFixed(3)),
      cpu_s: cpus.map((c) => +c.toFixed(2)),
      cpu_ms_per_register_read: +((cpuPerScrape / registers) * 1000).toFixed(3),
      peak_rss_mb: Math.round(peakRssMb(pid)),
      rate_violations: await violations(control),
    };
  });
}

/** Scenario 2: two scrapers (an HA pair) offset by 2 s, every 10 s, for `rounds` rounds. */
export async function benchHaPair(registers, rounds = 5) {
  return withUkmFleet(registers, async ({ control, url, pid }) => {
    const times = [];
    const runs = [];
    const warmup = await timedGet(`${url}/metrics`, HEADERS);
    await new Promise((res) => setTimeout(res, Math.max(0, 10_000 - warmup.seconds * 1000)));
    for (let i = 0; i < rounds; i++) {
      const t0 = Date.now();
      const scrape = async (delayMs) => {
        await new Promise((r) => setTimeout(r, delayMs));
        const r = await timedGet(`${url}/metrics`, HEADERS);
        times.push(r.seconds);
      };
      runs.push(scrape(0), scrape(2000));
      await Promise.all(runs.splice(0));
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - t0))));
    }
    const worst = Math.max(...times);
    return {
      registers,
      scrapes: times.length,
      worst_scrape_s: +worst.toFixed(3),
      ratio_to_6s: +(worst / FULL_READ_SECONDS).toFixed(3),
      peak_rss_mb: Math.round(peakRssMb(pid)),
      rate_violations: await violations(control),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1000);
  console.log(await benchUkmFleet(n, 2));
}
