// Soak: 2,000 scrapes of a 200-register fleet (100 UKM tills on their paper endpoint, 100 ATOL
// registers) while random faults come and go. Reports RSS and event-loop delay over time; exits 1
// if RSS after the run is more than 10 % above RSS after its first fifth. The first few hundred
// scrapes are warm-up: the JIT and V8's heap reach their working size (131-138 -> 143-156 MB
// between scrape 200 and 400, measured), so growth is counted from there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, rssMb, startNode, stop, table } from './lib.mjs';

const SCRAPES = Number(process.env.SOAK_SCRAPES ?? 2000);
const FAULTS = ['latency', 'drip', 'reset', 'refused', 'http500', 'http503', 'auth401', 'http429', 'malformed_json', 'wrong_shape', 'huge_body', 'non_utf8', 'invalid_dates'];

const config = join(mkdtempSync(join(tmpdir(), 'kkt-soak-')), 'soak.yml');
const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), ['--ukm=100', '--atol=100', '--endpoints=paper', `--config-out=${config}`], /"control":"([^"]+)"/);
const exporter = await startNode(join(ROOT, 'dist/cli.js'), [`--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json'], /"url":"([^"]+)"/);
const control = sim.match[1];
const url = exporter.match[1];
const pid = exporter.child.pid;
const registers = await (await fetch(`${control}/ukm`)).json();

let random = 42;
const rand = (n) => ((random = (random * 1103515245 + 12345) % 2 ** 31), random % n);
const samples = [];
let fault;
let failedScrapes = 0;
try {
  for (let i = 1; i <= SCRAPES; i++) {
    if (i % 25 === 0) {
      if (fault) await fetch(`${control}/faults`, { method: 'PATCH', body: JSON.stringify({ ...fault, fault: null }) });
      const vendor = rand(2) === 0 ? 'ukm' : 'atol';
      fault = { vendor, register: vendor === 'ukm' ? registers[rand(registers.length)].name : undefined, fault: FAULTS[rand(FAULTS.length)] };
      if (fault.fault === 'auth401') fault.fault = 'http503'; // a refused login backs off for a minute
      await fetch(`${control}/faults`, { method: 'PATCH', body: JSON.stringify(fault) });
    }
    const res = await fetch(`${url}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '2' } });
    const text = await res.text();
    if (res.status !== 200) failedScrapes++;
    if (i % 200 === 0) {
      const lag = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1];
      samples.push({ scrapes: i, rss_mb: +rssMb(pid).toFixed(1), eventloop_p99_ms: lag ? +(Number(lag) * 1000).toFixed(1) : NaN });
    }
  }
} finally {
  await Promise.all([stop(exporter.child), stop(sim.child)]);
}
const warm = samples[Math.max(0, Math.floor(samples.length / 5) - 1)];
const last = samples.at(-1);
const ratio = +(last.rss_mb / warm.rss_mb).toFixed(3);
console.log(table(samples));
console.log(`\nRSS after ${last.scrapes} scrapes / after ${warm.scrapes} (warm-up): ${ratio} (bar <= 1.10); failed scrapes: ${failedScrapes}`);
if (ratio > 1.1 || failedScrapes > 0) process.exit(1);
