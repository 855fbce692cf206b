// npm run bench: every scenario of the scale benchmark, each in separate processes on loopback.
// Prints a table, writes bench-results/latest.json, and exits 1 if a bar is missed.
// `node bench/run.mjs floor ukm ha probe` runs only the scenarios named. The UKM bars are medians of
// ratios to the floor measured in the same run, in pairs (bench/ukm.mjs), so `ukm` or `ha` run the
// floor too. BENCH_REGISTERS (default 5000) and BENCH_PAIRS (default 5) size those three scenarios;
// BENCH_PIN=1 pins their processes to cores. See docs/benchmark.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchAtol, HUGE_TOTAL_BAR } from './atol.mjs';
import { ROOT, table } from './lib.mjs';
import { benchProbe } from './probe.mjs';
import { benchRender } from './render.mjs';
import { benchUkmFleet, benchUkmPairs } from './ukm.mjs';

/** The fleet of the floor and of the UKM scenarios 1 and 2: their bars compare like with like. */
const FLEET = Number(process.env.BENCH_REGISTERS ?? 5000);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
/** Bars of the UKM scenarios: medians of the pairs' ratios to their floor rounds. */
const UKM_WALL_TO_FLOOR = 1.05;
const HA_WALL_TO_FLOOR = 1.07;
const UKM_CPU_TO_FLOOR = 2.0;

const SCENARIOS = ['floor', 'ukm', 'ha', 'scaling', 'probe', 'atol', 'render'];
const only = process.argv.slice(2);
const unknown = only.filter((name) => !SCENARIOS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
if (!(Number.isInteger(FLEET) && FLEET > 0 && Number.isInteger(PAIRS) && PAIRS > 0)) {
  console.error(`BENCH_REGISTERS and BENCH_PAIRS must be positive integers (got ${FLEET}, ${PAIRS})`);
  process.exit(2);
}
const want = (name) => only.length === 0 || only.includes(name);
const rows = [];
const results = {};

function bar(scenario, figure, value, limit, met) {
  rows.push({ scenario, figure, value, bar: limit, met: met ? 'yes' : 'NO' });
}

const fleet = FLEET.toLocaleString('en-US');
const spread = (stats) => `${stats.min}-${stats.max}`;
/** Where the UKM pairs ran (`pinning()` in bench/lib.mjs); null when none ran. */
let pinned = null;
if (want('floor') || want('ukm') || want('ha')) {
  const run = await benchUkmPairs(FLEET, { ukm: want('ukm'), ha: want('ha'), pairs: PAIRS });
  pinned = run.pinning;
  const floor = run.floor;
  results[`floor_${FLEET}`] = floor;
  const name = `0 floor: bare undici loop, ${fleet} tills`;
  const rounds = floor.round_s.length;
  bar(name, `wall s per round (median of ${rounds}, after warm-up)`, floor.wall_s, 'reported', true);
  bar(name, 'wall s per round, spread (min-max)', `${floor.wall_spread_s[0]}-${floor.wall_spread_s[1]}`, 'reported', true);
  bar(name, 'wall / 6 s (median)', floor.ratio_to_6s, 'reported', true);
  bar(name, 'CPU s per round (median)', floor.cpu_s_per_round, 'reported', true);
  // A loop that asked a till sooner than the exporter may would be a false floor.
  bar(name, 'rate violations', floor.rate_violations, '0', floor.rate_violations === 0);

  if (run.ukm) {
    const s = run.ukm;
    results[`ukm_${FLEET}`] = s;
    const name = `1 UKM ${fleet} registers /metrics`;
    bar(name, `scrape / floor wall (median of ${s.pairs} pairs)`, s.ratio_to_floor.median, `<= ${UKM_WALL_TO_FLOOR.toFixed(2)}`, s.ratio_to_floor.median <= UKM_WALL_TO_FLOOR);
    bar(name, 'scrape / floor wall, spread of the pairs', spread(s.ratio_to_floor), 'reported', true);
    bar(name, 'scrape / floor wall, worst pair', s.ratio_to_floor.max, 'reported', true);
    bar(name, 'scrape / 6 s (median)', s.ratio_to_6s, 'reported', true);
    bar(name, 'rate violations', s.rate_violations, '0', s.rate_violations === 0);
    bar(name, 'exporter peak RSS MB', s.peak_rss_mb, '<= 300', s.peak_rss_mb <= 300);
    bar(name, 'exporter CPU s per scrape (median)', s.cpu_s_per_scrape, 'reported', true);
    bar(name, `CPU per scrape / floor CPU (median of ${s.pairs} pairs)`, s.cpu_ratio_to_floor.median, `<= ${UKM_CPU_TO_FLOOR.toFixed(1)}`, s.cpu_ratio_to_floor.median <= UKM_CPU_TO_FLOOR);
    bar(name, 'CPU per scrape / floor CPU, spread of the pairs', spread(s.cpu_ratio_to_floor), 'reported', true);
  }
  if (run.ha) {
    const s = run.ha;
    results[`ha_pair_${FLEET}`] = s;
    const name = `2 HA pair, ${fleet} registers`;
    bar(name, 'rate violations', s.rate_violations, '0', s.rate_violations === 0);
    bar(name, `slower scrape of a round / floor wall (median of ${s.pairs} pairs)`, s.ratio_to_floor.median, `<= ${HA_WALL_TO_FLOOR.toFixed(2)}`, s.ratio_to_floor.median <= HA_WALL_TO_FLOOR);
    bar(name, 'slower scrape / floor wall, spread of the pairs', spread(s.ratio_to_floor), 'reported', true);
    bar(name, 'slower scrape / floor wall, worst pair', s.ratio_to_floor.max, 'reported', true);
    bar(name, 'slower scrape / 6 s (median)', s.ratio_to_6s, 'reported', true);
  }
}
if (want('scaling')) {
  const sizes = {};
  for (const n of [100, 1000]) sizes[n] = await benchUkmFleet(n);
  // The pairs' median CPU per read, when they ran on 5,000 tills.
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
  const name = '5 ATOL 10,000 registers, 50 ms/page';
  bar(name, 'median of 10 scrapes, s', s.median_scrape_s, '< 1', s.median_scrape_s < 1);
  bar(name, 'slowest of 10 scrapes, s', s.max_scrape_s, 'reported', true);
  bar(name, 'auth calls in 10 scrapes', s.auth_calls, '1', s.auth_calls === 1);
  bar(name, 'page calls in 10 scrapes', s.page_calls, 'reported', true);
  bar(name, 'a billion-register total: scrape s', s.huge_total_scrape_s, `< ${HUGE_TOTAL_BAR.seconds}`, s.huge_total_scrape_s < HUGE_TOTAL_BAR.seconds);
  bar(name, 'a billion-register total: exporter RSS growth MB', s.huge_total_rss_growth_mb, `< ${HUGE_TOTAL_BAR.rss_growth_mb}`, s.huge_total_rss_growth_mb < HUGE_TOTAL_BAR.rss_growth_mb);
  bar(name, 'a billion-register total: page calls', s.huge_total_page_calls, '1', s.huge_total_page_calls === 1);
}
if (want('render')) {
  const s = await benchRender();
  results.render_5000 = s;
  bar('6 render 5,000-register answer', `ms for ${s.series} series`, s.median_ms, 'reported', true);
  bar('6 render 5,000-register answer', 'answer size, MB', +(s.bytes / 1048576).toFixed(1), 'reported', true);
  bar('6 render 5,000-register answer', `answer size gzip (level ${s.gzip_level}), MB`, +(s.gzip_bytes / 1048576).toFixed(2), 'reported', true);
  bar('6 render 5,000-register answer', `gzip ms (level ${s.gzip_level})`, s.gzip_ms, 'reported', true);
}

const machine = { date: new Date().toISOString().slice(0, 10), cores: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, pinning: pinned };
const pinnedText = !pinned ? '' : pinned.on ? `; UKM pairs pinned: simulator on CPU ${pinned.simulator_cpu}, floor loop and exporter on CPU ${pinned.under_test_cpu}` : `; UKM pairs not pinned (${pinned.why})`;
console.log(`\nkkt-exporter benchmark, ${machine.date}, ${machine.cores} cores, ${machine.memory_gb} GB, Node ${machine.node}${pinnedText}\n`);
console.log(table(rows));
mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(ROOT, 'bench-results/latest.json'), `${JSON.stringify({ machine, rows, results }, null, 2)}\n`);
const missed = rows.filter((r) => r.met === 'NO');
if (missed.length > 0) {
  console.error(`\n${missed.length} bar(s) missed:\n${missed.map((r) => `- ${r.scenario}: ${r.figure} = ${r.value} (bar ${r.bar})`).join('\n')}`);
  process.exit(1);
}
