// Soak: 2,000 scrapes of a 200-register fleet (100 UKM tills on their paper endpoint, 100 ATOL
// registers) while random faults come and go. The second half is hostile: ATOL also gets its paging
// wrong (a billion-register total, a page pointing at itself, endless pages, ...), and a second
// client scrapes every 100 ms with a 0.6 s timeout header beside the main one. Reports RSS and
// event-loop delay over time; exits 1 if RSS after the run is more than 10 % above RSS after its
// first fifth, or if a main scrape failed or lost a healthy till to the short-deadline client. The
// first few hundred scrapes are warm-up: the JIT and V8's heap reach their working size (131-138 ->
// 143-156 MB between scrape 200 and 400, measured), so growth is counted from there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, rssMb, startNode, stop, table, startExporter } from './lib.mjs';

const SCRAPES = Number(process.env.SOAK_SCRAPES ?? 2000);
const PAGING = ['huge_total', 'negative_total', 'inflated_total', 'capped_limit', 'self_next', 'endless'];
const FAULTS = ['latency', 'drip', 'reset', 'refused', 'http500', 'http503', 'auth401', 'http429', 'malformed_json', 'wrong_shape', 'huge_body', 'non_utf8', 'invalid_dates'];

const config = join(mkdtempSync(join(tmpdir(), 'kkt-soak-')), 'soak.yml');
const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), ['--ukm=100', '--atol=100', '--endpoints=paper', `--config-out=${config}`], /"control":"([^"]+)"/);
const exporter = await startExporter([`--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json']);
const control = sim.match[1];
const url = exporter.match[1];
const pid = exporter.child.pid;
const registers = await (await fetch(`${control}/ukm`)).json();

let random = 42;
const rand = (n) => ((random = (random * 1103515245 + 12345) % 2 ** 31), random % n);
const patch = async (path, body) => {
  const res = await fetch(`${control}${path}`, { method: 'PATCH', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`simulator control ${path} ${JSON.stringify(body)}: ${res.status} ${await res.text()}`);
};
const samples = [];
let fault;
/**
 * When each till's fault was cleared. For a while after, it may still read down: a request sent
 * during the fault runs up to request_timeout (3 s), and its failed read is reused for min_interval (1 s).
 */
const healedAt = new Map();
let paging = false;
let failedScrapes = 0;
let lostTills = 0;
let hostileScrapes = 0;
let hostile;

/** A client whose timeout header is 0.6 s, every 100 ms: it must never cost the main scrape a till. */
function startShortDeadlineClient() {
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await fetch(`${url}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '0.6' } });
      await res.text();
      hostileScrapes++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

try {
  for (let i = 1; i <= SCRAPES; i++) {
    const hostilePhase = i > SCRAPES / 2;
    if (hostilePhase && !hostile) hostile = startShortDeadlineClient();
    if (i % 25 === 0) {
      if (fault) await patch('/faults', { ...fault, fault: null });
      if (fault?.register) healedAt.set(fault.register, performance.now());
      if (paging) await patch('/atol', { paging: null });
      fault = undefined;
      paging = false;
      if (hostilePhase && rand(2) === 0) {
        paging = true;
        await patch('/atol', { paging: PAGING[rand(PAGING.length)] });
      } else {
        const vendor = rand(2) === 0 ? 'ukm' : 'atol';
        fault = { vendor, register: vendor === 'ukm' ? registers[rand(registers.length)].name : undefined, fault: FAULTS[rand(FAULTS.length)] };
        if (fault.fault === 'auth401') fault.fault = 'http503'; // a refused login backs off for a minute
        await patch('/faults', fault);
      }
    }
    const res = await fetch(`${url}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '2' } });
    const text = await res.text();
    if (res.status !== 200) failedScrapes++;
    // Every till but the faulty one (and those healed in the last 5 s) answers its paper endpoint
    // well within the 1.5 s budget.
    const down = [...text.matchAll(/^kkt_up\{source="stores",kkt="([^"]+)"\} 0$/gm)].map((m) => m[1]);
    const excused = (kkt) => kkt === fault?.register || performance.now() - (healedAt.get(kkt) ?? -Infinity) < 5000;
    if (!down.every(excused)) lostTills++;
    if (i % 200 === 0) {
      const lag = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1];
      samples.push({ scrapes: i, phase: hostilePhase ? 'hostile' : 'faults', rss_mb: +rssMb(pid).toFixed(1), eventloop_p99_ms: lag ? +(Number(lag) * 1000).toFixed(1) : NaN });
    }
  }
} finally {
  await hostile?.();
  await Promise.all([stop(exporter.child), stop(sim.child)]);
}
const warm = samples[Math.max(0, Math.floor(samples.length / 5) - 1)];
const last = samples.at(-1);
const ratio = +(last.rss_mb / warm.rss_mb).toFixed(3);
console.log(table(samples));
console.log(`\nRSS after ${last.scrapes} scrapes / after ${warm.scrapes} (warm-up): ${ratio} (bar <= 1.10); failed scrapes: ${failedScrapes}; main scrapes that lost a healthy till: ${lostTills}; short-deadline scrapes beside them: ${hostileScrapes}`);
if (ratio > 1.1 || failedScrapes > 0 || lostTills > 0) process.exit(1);
