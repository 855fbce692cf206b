// ATOL Online at scale: 10,000 registers, 50 ms per page, simulator and exporter in separate processes.
// Prints scrape times and the vendor calls of 10 scrapes, then what one scrape costs when the service
// states a total of a billion registers; exits 1 if the median scrape takes 1 s or more.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, median, ROOT, rssMb, startNode, stop, table, timedGet, startExporter } from './lib.mjs';

const REGISTERS = Number(process.env.ATOL_REGISTERS ?? 10_000);
const LATENCY_MS = Number(process.env.ATOL_LATENCY_MS ?? 50);
const SCRAPES = 10;
const BAR_SECONDS = 1;
/** A scrape against a list that states a billion registers must fail fast, without making room for them. */
export const HUGE_TOTAL_BAR = { seconds: 2, rss_growth_mb: 64 };

export async function benchAtol() {
  const config = join(mkdtempSync(join(tmpdir(), 'kkt-bench-')), 'atol.yml');
  const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), [`--atol=${REGISTERS}`, `--atol-latency-ms=${LATENCY_MS}`, `--config-out=${config}`], /"control":"([^"]+)"/);
  const exporter = await startExporter([`--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json']);
  try {
    return await run(sim.match[1], exporter.match[1], exporter.child.pid);
  } finally {
    await Promise.all([stop(exporter.child), stop(sim.child)]);
  }
}

async function run(control, url, pid) {
  const times = [];
  const cpu0 = cpuSeconds(pid);
  let series = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const r = await timedGet(`${url}/metrics`);
    times.push(r.seconds);
    series = r.text.split('\n').filter((l) => l.startsWith('kkt_up{')).length;
  }
  const cpu = cpuSeconds(pid) - cpu0;
  const stats = await (await fetch(`${control}/stats`)).json();
  const mid = median(times);
  const huge = await hugeTotal(control, url, pid, stats.atol.page_calls);
  return {
    registers: REGISTERS,
    latency_ms: LATENCY_MS,
    registers_up: series,
    first_scrape_s: +times[0].toFixed(3),
    median_scrape_s: +mid.toFixed(3),
    max_scrape_s: +Math.max(...times).toFixed(3),
    page_calls: stats.atol.page_calls,
    auth_calls: stats.atol.auth_calls,
    exporter_cpu_s_per_scrape: +(cpu / SCRAPES).toFixed(3),
    sequential_pages_s: +(((REGISTERS / 100) * LATENCY_MS) / 1000).toFixed(2),
    huge_total_scrape_s: huge.seconds,
    huge_total_rss_growth_mb: huge.rss_growth_mb,
    huge_total_page_calls: huge.page_calls,
    bar_met: mid < BAR_SECONDS && series === REGISTERS && stats.atol.auth_calls === 1,
    huge_total_bar_met: huge.seconds < HUGE_TOTAL_BAR.seconds && huge.rss_growth_mb < HUGE_TOTAL_BAR.rss_growth_mb && huge.page_calls === 1,
  };
}

/**
 * One scrape while the list's first page states a total of a billion registers, past max_registers:
 * the source fails after that page. Its wall time, the exporter's RSS growth and its page calls.
 */
async function hugeTotal(control, url, pid, pagesBefore) {
  const res = await fetch(`${control}/atol`, { method: 'PATCH', body: JSON.stringify({ paging: 'huge_total' }) });
  if (!res.ok) throw new Error(`simulator: PATCH /atol answered ${res.status}`);
  const rss0 = rssMb(pid);
  const r = await timedGet(`${url}/metrics`);
  const rssGrowth = rssMb(pid) - rss0;
  if (!/^kkt_probe_success\{source="atol-cloud"\} 0$/m.test(r.text)) throw new Error('ATOL: a billion-register total did not fail the source');
  const stats = await (await fetch(`${control}/stats`)).json();
  return { seconds: +r.seconds.toFixed(3), rss_growth_mb: +rssGrowth.toFixed(1), page_calls: stats.atol.page_calls - pagesBefore };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchAtol();
  console.log(table([result]));
  if (!result.bar_met || !result.huge_total_bar_met) {
    console.error(`ATOL bar missed: median scrape under ${BAR_SECONDS}s, ${REGISTERS} registers up, one auth call; a billion-register total fails in one page call, under ${HUGE_TOTAL_BAR.seconds}s and ${HUGE_TOTAL_BAR.rss_growth_mb} MB`);
    process.exit(1);
  }
}
