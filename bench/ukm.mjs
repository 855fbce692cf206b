// UKM whole fleet through /metrics, simulator and exporter in separate processes on loopback.
// Scenarios 0 (the floor), 1 (one scraper) and 2 (an HA pair of scrapers) run together as pairs, each
// an exporter run and a floor round against the same simulator; 3 (scaling) on its own.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFloorLoop } from './floor.mjs';
import { cpuSeconds, median, peakRssMb, pin, pinning, ratioStats, ROOT, sleep, startNode, stop, timedGet, startExporter } from './lib.mjs';

/**
 * 7 endpoints at one request per second take at least 6 s. Kept as a reported ratio; the bars are
 * relative to the floor (bench/floor.mjs), which measures what the wire alone costs on top of it.
 */
const FULL_READ_SECONDS = 6;
const HEADERS = { 'X-Prometheus-Scrape-Timeout-Seconds': '10' };
/** Each floor round, scrape or HA round starts this long after the previous one started: a 10 s scrape interval. */
const SLOT_MS = 10_000;
/** ...and at least this long after the previous one ended, so that no till is asked twice within 1 s. */
const MIN_GAP_MS = 1500;
/** The second scraper of an HA pair starts this long after the first. */
const HA_OFFSET_MS = 2000;
const EXPORTER_ARGS = (config) => [`--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json', '--log.level=info'];

/** Starts the simulator with `registers` UKM tills; it writes an exporter config for them to `config`. */
export async function startUkmSimulator(registers, extraArgs = []) {
  const config = join(mkdtempSync(join(tmpdir(), 'kkt-bench-')), 'ukm.yml');
  const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), [`--ukm=${registers}`, `--config-out=${config}`, ...extraArgs], /"control":"([^"]+)"/);
  return { sim, config, control: sim.match[1] };
}

export async function withUkmFleet(registers, fn, extraArgs = []) {
  const { sim, config } = await startUkmSimulator(registers, extraArgs);
  const exporter = await startExporter(EXPORTER_ARGS(config));
  try {
    return await fn({ control: sim.match[1], url: exporter.match[1], pid: exporter.child.pid, simPid: sim.child.pid });
  } finally {
    await Promise.all([stop(exporter.child), stop(sim.child)]);
  }
}

export async function violations(control) {
  return (await (await fetch(`${control}/stats`)).json()).ukm.violations;
}

const upCount = (text) => text.split('\n').filter((l) => l.startsWith('kkt_up{') && l.endsWith(' 1')).length;

/**
 * Scenario 3: a warm-up scrape (new connections, cold JIT), then `rounds` scrapes of the whole fleet
 * 10 s apart, as Prometheus would scrape a running exporter.
 */
export async function benchUkmFleet(registers, rounds = 2) {
  return withUkmFleet(registers, async ({ control, url, pid }) => {
    const times = [];
    const cpus = [];
    let up = 0;
    const warmup = await timedGet(`${url}/metrics`, HEADERS);
    await sleep(SLOT_MS - warmup.seconds * 1000);
    for (let i = 0; i < rounds; i++) {
      const started = Date.now();
      const cpu0 = cpuSeconds(pid);
      const r = await timedGet(`${url}/metrics`, HEADERS);
      cpus.push(cpuSeconds(pid) - cpu0);
      times.push(r.seconds);
      up = upCount(r.text);
      await sleep(SLOT_MS - (Date.now() - started));
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

/**
 * Runs `run` in the next slot: SLOT_MS after the previous run started, never sooner than MIN_GAP_MS
 * after it ended; adds the rate violations the simulator counted during it.
 */
function timetable(control) {
  let started = -Infinity;
  return async (run) => {
    await sleep(Math.max(started + SLOT_MS, performance.now() + MIN_GAP_MS) - performance.now());
    started = performance.now();
    const before = await violations(control);
    const result = await run();
    return { ...result, violations: (await violations(control)) - before };
  };
}

/** One /metrics scrape of the whole fleet: wall and exporter CPU seconds, registers up. */
async function scrape(exporter) {
  const cpu0 = cpuSeconds(exporter.pid);
  const r = await timedGet(`${exporter.url}/metrics`, HEADERS);
  return { wall_s: r.seconds, cpu_s: cpuSeconds(exporter.pid) - cpu0, up: upCount(r.text) };
}

/** One HA round: two scrapers, the second HA_OFFSET_MS after the first; its wall time is the slower scrape's. */
async function haRound(exporter) {
  const cpu0 = cpuSeconds(exporter.pid);
  const get = () => timedGet(`${exporter.url}/metrics`, HEADERS);
  const [a, b] = await Promise.all([get(), sleep(HA_OFFSET_MS).then(get)]);
  return { wall_s: Math.max(a.seconds, b.seconds), scrapes_s: [+a.seconds.toFixed(3), +b.seconds.toFixed(3)], cpu_s: cpuSeconds(exporter.pid) - cpu0, up: Math.min(upCount(a.text), upCount(b.text)) };
}

/**
 * `count` pairs of a floor round and an exporter run (`measure`) in consecutive slots, the floor
 * first in the 1st, 3rd, ... pair and second in the others, so that neither side always runs on a
 * machine the other has just warmed or tired.
 */
async function runPairs(slot, floor, measure, count) {
  const pairs = [];
  for (let i = 0; i < count; i++) {
    const floorFirst = i % 2 === 0;
    const first = await slot(floorFirst ? floor.round : measure);
    const second = await slot(floorFirst ? measure : floor.round);
    const [f, e] = floorFirst ? [first, second] : [second, first];
    pairs.push({ order: floorFirst ? 'floor-first' : 'exporter-first', floor: f, exporter: e });
  }
  return pairs;
}

const r3 = (x) => +x.toFixed(3);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** The exporter's side of a scenario's pairs: each pair's ratios to its floor round, their median and spread. */
function summarise(registers, pairs, peakRss) {
  const ex = pairs.map((p) => p.exporter);
  const wall = median(ex.map((e) => e.wall_s));
  const cpu = median(ex.map((e) => e.cpu_s));
  return {
    registers,
    pairs: pairs.length,
    order: pairs.map((p) => p.order),
    ratio_to_floor: ratioStats(pairs.map((p) => p.exporter.wall_s / p.floor.wall_s)),
    cpu_ratio_to_floor: ratioStats(pairs.map((p) => p.exporter.cpu_s / p.floor.cpu_s)),
    floor_s: pairs.map((p) => p.floor.wall_s),
    scrape_s: ex.map((e) => r3(e.wall_s)),
    ...(ex[0].scrapes_s ? { scrapes_s: ex.map((e) => e.scrapes_s) } : {}),
    cpu_s: ex.map((e) => +e.cpu_s.toFixed(2)),
    median_scrape_s: r3(wall),
    ratio_to_6s: r3(wall / FULL_READ_SECONDS),
    cpu_s_per_scrape: +cpu.toFixed(2),
    cpu_ms_per_register_read: r3((cpu / registers) * 1000),
    registers_up: Math.min(...ex.map((e) => e.up)),
    peak_rss_mb: Math.round(peakRss),
    rate_violations: sum(ex.map((e) => e.violations)),
  };
}

/** The floor's side of every pair of the run. */
function summariseFloor(registers, floor, warmup, rounds, peakRss) {
  const wall = median(rounds.map((r) => r.wall_s));
  return {
    registers,
    requests_per_round: floor.requests_per_round,
    warmup_round_s: warmup.wall_s,
    round_s: rounds.map((r) => r.wall_s),
    cpu_s: rounds.map((r) => r.cpu_s),
    wall_s: r3(wall),
    wall_spread_s: [Math.min(...rounds.map((r) => r.wall_s)), Math.max(...rounds.map((r) => r.wall_s))],
    cpu_s_per_round: +median(rounds.map((r) => r.cpu_s)).toFixed(2),
    ratio_to_6s: r3(wall / FULL_READ_SECONDS),
    peak_rss_mb: Math.round(peakRss),
    rate_violations: sum(rounds.map((r) => r.violations)),
  };
}

/**
 * Scenarios 0, 1 and 2 in one run: one simulator, the floor's loop and one exporter, pinned to cores
 * when `pinning()` allows. After a warm-up floor round and a warm-up scrape (new connections, cold
 * JIT), `pairs` pairs of a floor round and a scrape (scenario 1, when `ukm`), then `pairs` pairs of a
 * floor round and an HA round (scenario 2, when `ha`). With neither, `pairs` floor rounds alone.
 */
export async function benchUkmPairs(registers, { ukm = true, ha = true, pairs = 5 } = {}) {
  const cores = pinning();
  const { sim, config, control } = await startUkmSimulator(registers);
  let floor;
  let exporter;
  try {
    floor = await startFloorLoop(config, registers);
    const started = await startExporter(EXPORTER_ARGS(config));
    exporter = { child: started.child, pid: started.child.pid, url: started.match[1] };
    if (cores.on) {
      pin(sim.child.pid, cores.simulator_cpu);
      pin(floor.pid, cores.under_test_cpu);
      pin(exporter.pid, cores.under_test_cpu);
    }
    const slot = timetable(control);
    const warmup = { floor: await slot(floor.round), scrape: await slot(() => scrape(exporter)) };
    const result = { pinning: cores, warmup: { floor_round_s: warmup.floor.wall_s, scrape_s: r3(warmup.scrape.wall_s) } };
    const floorRounds = [];
    if (ukm) {
      const p = await runPairs(slot, floor, () => scrape(exporter), pairs);
      floorRounds.push(...p.map((x) => x.floor));
      result.ukm = summarise(registers, p, peakRssMb(exporter.pid));
    }
    if (ha) {
      const p = await runPairs(slot, floor, () => haRound(exporter), pairs);
      floorRounds.push(...p.map((x) => x.floor));
      result.ha = summarise(registers, p, peakRssMb(exporter.pid));
    }
    if (!ukm && !ha) for (let i = 0; i < pairs; i++) floorRounds.push(await slot(floor.round));
    result.floor = summariseFloor(registers, floor, warmup.floor, floorRounds, peakRssMb(floor.pid));
    return result;
  } finally {
    await Promise.all([floor?.stop(), exporter ? stop(exporter.child) : undefined, stop(sim.child)]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1000);
  const pairs = Number(process.argv[3] ?? 5);
  console.log(JSON.stringify(await benchUkmPairs(n, { pairs }), null, 2));
}
