// Soak: 2,000 scrapes of a 230-register fleet (100 UKM tills on their paper endpoint, 100 ATOL
// registers, 20 BusinessKassa, 10 Kassa24) while random faults come and go. The second half is
// hostile: ATOL also gets its paging wrong (a billion-register total, a page pointing at itself,
// endless pages, a page that lies about its limit, ...) or sends serials or addresses of 39,014
// characters; BusinessKassa repeats every register in its circuit; a second client scrapes every
// 100 ms with a 0.6 s timeout header beside the main one; a third sends what a hostile client can:
// scrapes it hangs up on, distinct ad-hoc /probe targets, unknown BusinessKassa serials, Kassa24
// registers outside the config, and a config reload every 10 scrapes. Reports RSS and event-loop
// delay over time; exits 1 if RSS after the run is more than 10 % above RSS after its first fifth,
// if a main scrape failed or lost a healthy till to the hostile clients, if a till was asked twice
// within a second, or if a hostile request got a 5xx (or a Kassa24 register outside the config was
// not refused with a 400). The
// first few hundred scrapes are warm-up: the JIT and V8's heap reach their working size (131-138 ->
// 143-156 MB between scrape 200 and 400, measured), so growth is counted from there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, rssMb, startNode, stop, table, startExporter } from './lib.mjs';

const SCRAPES = Number(process.env.SOAK_SCRAPES ?? 2000);
const PAGING = ['huge_total', 'negative_total', 'inflated_total', 'capped_limit', 'self_next', 'endless', 'lying_limit'];
/** ATOL records with one field 39,014 characters long: a serial is refused, an address truncated. */
const OVERSIZED = ['serialNumber', 'fiscalStoragePaymentAddress'];
const FAULTS = ['latency', 'drip', 'reset', 'refused', 'http500', 'http503', 'auth401', 'http429', 'malformed_json', 'wrong_shape', 'huge_body', 'non_utf8', 'invalid_dates'];

const config = join(mkdtempSync(join(tmpdir(), 'kkt-soak-')), 'soak.yml');
const sim = await startNode(join(ROOT, 'dist/simulator/cli.js'), ['--ukm=100', '--atol=100', '--bk=20', '--kassa24=10', '--endpoints=paper', `--config-out=${config}`], /"control":"([^"]+)"/);
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
let lostRegisters = 0;
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

let abuseRequests = 0;
let abuseErrors = 0;
/** A Kassa24 id no config names (the simulator's are 70000..): /probe must refuse it with a 400. */
const UNLISTED_KZ = 99001;

/**
 * What one hostile client can send, one request after another: a scrape it hangs up on
 * after 200 ms, an ad-hoc /probe target never seen before (nothing listens there: refused at once),
 * 5 concurrent probes of BusinessKassa serials nobody has, a Kassa24 register outside the config,
 * and a config reload every 10th round.
 */
function startAbusiveClient() {
  let running = true;
  let round = 0;
  const send = async (path, init) => {
    abuseRequests++;
    try {
      const res = await fetch(`${url}${path}`, init);
      await res.text();
      if (res.status >= 500) abuseErrors++;
      return res.status;
    } catch (err) {
      if (init?.signal?.aborted) return 0;
      abuseErrors++;
      return 0;
    }
  };
  const loop = (async () => {
    while (running) {
      round++;
      await send('/metrics', { signal: AbortSignal.timeout(200) });
      await send(`/probe?source=stores&target=127.${(round >> 8) & 255}.${round & 255}.${1 + (round >> 16)}:9`);
      await Promise.all(Array.from({ length: 5 }, (_, k) => send(`/probe?source=bk&target=UNKNOWN${round}x${k}`)));
      if ((await send(`/probe?source=kz&target=${UNLISTED_KZ}`)) !== 400) abuseErrors++;
      if (round % 10 === 0) await send('/-/reload', { method: 'POST' });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}
let abusive;
let oversized = false;
let repeats = false;

try {
  for (let i = 1; i <= SCRAPES; i++) {
    const hostilePhase = i > SCRAPES / 2;
    if (hostilePhase && !hostile) hostile = startShortDeadlineClient();
    if (hostilePhase && !abusive) abusive = startAbusiveClient();
    if (i % 25 === 0) {
      if (fault) await patch('/faults', { ...fault, fault: null });
      if (fault?.register) healedAt.set(fault.register, performance.now());
      if (paging) await patch('/atol', { paging: null });
      if (oversized) await patch('/atol', { oversized: { registers: 100, length: 0 } });
      if (repeats) await patch('/businesskassa', { circuit_repeats: false });
      fault = undefined;
      paging = false;
      oversized = false;
      repeats = rand(4) === 0 && hostilePhase;
      if (repeats) await patch('/businesskassa', { circuit_repeats: true });
      const hostileKind = hostilePhase ? rand(3) : 2;
      if (hostileKind === 0) {
        paging = true;
        await patch('/atol', { paging: PAGING[rand(PAGING.length)] });
      } else if (hostileKind === 1) {
        oversized = true;
        await patch('/atol', { oversized: { registers: 100, field: OVERSIZED[rand(OVERSIZED.length)], length: 39014 } });
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
    if (!down.every(excused)) lostRegisters++;
    if (i % 200 === 0) {
      const lag = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1];
      samples.push({ scrapes: i, phase: hostilePhase ? 'hostile' : 'faults', rss_mb: +rssMb(pid).toFixed(1), eventloop_p99_ms: lag ? +(Number(lag) * 1000).toFixed(1) : NaN });
    }
  }
} finally {
  await hostile?.();
  await abusive?.();
}
const stats = await (await fetch(`${control}/stats`)).json();
await Promise.all([stop(exporter.child), stop(sim.child)]);
const warm = samples[Math.max(0, Math.floor(samples.length / 5) - 1)];
const last = samples.at(-1);
const ratio = +(last.rss_mb / warm.rss_mb).toFixed(3);
console.log(table(samples));
const violations = stats.ukm.violations;
console.log(`\nRSS after ${last.scrapes} scrapes / after ${warm.scrapes} (warm-up): ${ratio} (bar <= 1.10); failed scrapes: ${failedScrapes}; main scrapes that lost a healthy till: ${lostRegisters}; short-deadline scrapes beside them: ${hostileScrapes}`);
console.log(`hostile client requests: ${abuseRequests} (5xx, errors or a Kassa24 probe not refused: ${abuseErrors}); till rate violations: ${violations}; BusinessKassa fleet reads: ${stats.businesskassa.frs_calls}`);
if (ratio > 1.1 || failedScrapes > 0 || lostRegisters > 0 || violations > 0 || abuseErrors > 0) process.exit(1);
