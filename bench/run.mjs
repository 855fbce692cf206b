// npm run bench: every scenario of the scale benchmark, each in separate processes on loopback.
// Prints a table, writes bench-results/latest.json, and exits 1 if a bar is missed.
// `node bench/run.mjs floor ukm ha probe` runs only the scenarios named; the UKM scenarios' bars are
// ratios to the floor, so `ukm` or `ha` run the floor too. See docs/benchmark.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchAtol } from './atol.mjs';
import { benchFloor } from './floor.mjs';
import { ROOT, table } from './lib.mjs';
import { benchProbe } from './probe.mjs';
import { benchRender } from './render.mjs';
import { benchHaPair, benchUkmFleet } from './ukm.mjs';

/** The fleet of the floor and of the UKM scenarios 1 and 2: their bars compare like with like. */
const FLEET = 5000;
/** Bars of the UKM scenarios, relative to the floor measured in the same run. */
const UKM_WALL_TO_FLOOR = 1.04;
const HA_WALL_TO_FLOOR = 1.06;
const UKM_CPU_TO_FLOOR = 2.0;

const SCENARIOS = ['floor', 'ukm', 'ha', 'scaling', 'probe', 'atol', 'render'];
const only = process.argv.slice(2);
const unknown = only.filter((name) => !SCENARIOS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
const want = (name) => only.length === 0 || only.includes(name);
const rows = [];
const results = {};

function bar(scenario, figure, value, limit, met) {
  rows.push({ scenario, figure, value, bar: limit, met: met ? 'yes' : 'NO' });
}

let floor;
if (want('floor') || want('ukm') || want('ha')) {
  floor = await benchFloor(FLEET);
  results.floor_5000 = floor;
  const name = '0 floor: bare undici loop, 5,000 tills';
  bar(name, 'wall s per round (worst of 2, after warm-up)', floor.wall_s, 'reported', true);
  bar(name, 'wall / 6 s', floor.ratio_to_6s, 'reported', true);
  bar(name, 'CPU s per round', floor.cpu_s_per_round, 'reported', true);
  // A loop that asked a till sooner than the exporter may would be a false floor.
  bar(name, 'rate violations', floor.rate_violations, '0', floor.rate_violations === 0);
}
const toFloor = (value, floorValue) => +(value / floorValue).toFixed(3);

if (want('ukm')) {
  const s = await benchUkmFleet(FLEET);
  s.ratio_to_floor = toFloor(s.worst_scrape_s, floor.wall_s);
  s.cpu_ratio_to_floor = toFloor(s.cpu_s_per_scrape, floor.cpu_s_per_round);
  results.ukm_5000 = s;
  const name = '1 UKM 5,000 registers /metrics';
  bar(name, 'scrape / floor wall (worst of 2, after warm-up)', s.ratio_to_floor, `<= ${UKM_WALL_TO_FLOOR.toFixed(2)}`, s.ratio_to_floor <= UKM_WALL_TO_FLOOR);
  bar(name, 'scrape / 6 s', s.ratio_to_6s, 'reported', true);
  bar(name, 'rate violations', s.rate_violations, '0', s.rate_violations === 0);
  bar(name, 'exporter peak RSS MB', s.peak_rss_mb, '<= 300', s.peak_rss_mb <= 300);
  bar(name, 'exporter CPU s per scrape', s.cpu_s_per_scrape, 'reported', true);
  bar(name, 'CPU per scrape / floor CPU', s.cpu_ratio_to_floor, `<= ${UKM_CPU_TO_FLOOR.toFixed(1)}`, s.cpu_ratio_to_floor <= UKM_CPU_TO_FLOOR);
}
if (want('ha')) {
  const s = await benchHaPair(FLEET);
  s.ratio_to_floor = toFloor(s.worst_scrape_s, floor.wall_s);
  results.ha_pair_5000 = s;
  const name = '2 HA pair, 5,000 registers';
  bar(name, 'rate violations', s.rate_violations, '0', s.rate_violations === 0);
  bar(name, 'worst scrape / floor wall', s.ratio_to_floor, `<= ${HA_WALL_TO_FLOOR.toFixed(2)}`, s.ratio_to_floor <= HA_WALL_TO_FLOOR);
  bar(name, 'worst scrape / 6 s', s.ratio_to_6s, 'reported', true);
}
if (want('scaling')) {
  const sizes = {};
  for (const n of [100, 1000]) sizes[n] = await benchUkmFleet(n);
  sizes[5000] = results.ukm_5000 ?? (await benchUkmFleet(5000));
  results.scaling = sizes;
  for (const n of [100, 1000, 5000]) bar('3 scaling', `CPU ms per register read, ${n}`, sizes[n].cpu_ms_per_register_read, 'reported', true);
  const growth = +(sizes[5000].cpu_ms_per_register_read / sizes[100].cpu_ms_per_register_read).toFixed(2);
  bar('3 scaling', 'CPU per read, 5,000 / 100', growth, '<= 1.5', growth <= 1.5);
}
if (want('probe')) {
  const s = await benchProbe();
  results.probe_vs_blackbox = s;
  bar('4 /probe vs blackbox_exporter', 'CPU per 1,000 probes, ours / blackbox (median of 3)', s.cpu_ratio, '<= 1.0', s.cpu_ratio <= 1);
  bar('4 /probe vs blackbox_exporter', 'p99 latency, ours / blackbox (median of 3)', s.p99_ratio, '<= 1.0', s.p99_ratio <= 1);
  bar('4 /probe vs blackbox_exporter', 'rate violations', s.rate_violations, '0', s.rate_violations === 0);
}
if (want('atol')) {
  const s = await benchAtol();
  results.atol_10000 = s;
  bar('5 ATOL 10,000 registers, 50 ms/page', 'slowest of 10 scrapes, s', s.max_scrape_s, '< 1', s.max_scrape_s < 1);
  bar('5 ATOL 10,000 registers, 50 ms/page', 'auth calls in 10 scrapes', s.auth_calls, '1', s.auth_calls === 1);
  bar('5 ATOL 10,000 registers, 50 ms/page', 'page calls in 10 scrapes', s.page_calls, 'reported', true);
}
if (want('render')) {
  const s = await benchRender();
  results.render_5000 = s;
  bar('6 render 5,000-register answer', `ms for ${s.series} series`, s.median_ms, 'reported', true);
  bar('6 render 5,000-register answer', 'answer size, MB', +(s.bytes / 1048576).toFixed(1), 'reported', true);
  bar('6 render 5,000-register answer', `answer size gzip (level ${s.gzip_level}), MB`, +(s.gzip_bytes / 1048576).toFixed(2), 'reported', true);
  bar('6 render 5,000-register answer', `gzip ms (level ${s.gzip_level})`, s.gzip_ms, 'reported', true);
}

const machine = { date: new Date().toISOString().slice(0, 10), cores: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
console.log(`\nkkt-exporter benchmark, ${machine.date}, ${machine.cores} cores, ${machine.memory_gb} GB, Node ${machine.node}\n`);
console.log(table(rows));
mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(ROOT, 'bench-results/latest.json'), `${JSON.stringify({ machine, rows, results }, null, 2)}\n`);
const missed = rows.filter((r) => r.met === 'NO');
if (missed.length > 0) {
  console.error(`\n${missed.length} bar(s) missed:\n${missed.map((r) => `- ${r.scenario}: ${r.figure} = ${r.value} (bar ${r.bar})`).join('\n')}`);
  process.exit(1);
}
