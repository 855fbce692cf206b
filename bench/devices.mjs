// The performance devices of the code, each against the plain alternative, in this process: the
// device as built (dist/, after `npm run build`) or, where it is not exported, a faithful copy of
// its code, and a copy of the plain code it replaces. For each, REPS repetitions of both (their
// order alternating), the ratio plain / device of each repetition, and the device's saving scaled
// to the unit it serves (usually one 5,000-register UKM scrape: 35,000 requests). A device pays
// when the plain code was slower in every repetition (the lowest ratio above 1): the spread of the
// repetitions, this run's noise, never turned the comparison round. The network rows send one
// request at a time, so their saving per scrape overstates what a burst of 5,000 saves.
//
//   npm run build && node bench/devices.mjs [NAME...]
//
// prints a markdown table (docs/benchmark.md, "Performance devices"). DEVICE_REPS (default 7) sets
// the repetitions. A busy machine widens the spreads: rerun on a quiet one before judging.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { gzip as gzipCallback, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import bcrypt from 'bcryptjs';
import { DateTime, IANAZone } from 'luxon';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { Deadline } from '../dist/deadline/deadline.js';
import { SourceHttp } from '../dist/http/client.js';
import { splitUrl, TransportError, UndiciTransport } from '../dist/http/transport.js';
import { RequestCounter, RequestHistogram } from '../dist/metrics/request-metrics.js';
import { escapeLabelValue, renderSourceChunks } from '../dist/metrics/render.js';
import { createBasicAuth } from '../dist/server/basic-auth.js';
import { GZIP_LEVEL, gzipAnswer } from '../dist/server/compress.js';
import { SharedRead, SharedReads } from '../dist/sources/shared-read.js';
import { parseVendorTime } from '../dist/sources/time.js';
import { UKM_ENDPOINTS } from '../dist/sources/ukm/config.js';
import { ukmEndpointUrl } from '../dist/sources/ukm/source.js';
import { addressKeysAt, hostPortOf, registerPlaceOf } from '../dist/sources/ukm/address.js';
import { median, ukmReading } from './lib.mjs';

const REPS = Number(process.env.DEVICE_REPS ?? 7);
const FLEET = 5000;
const REQUESTS = FLEET * UKM_ENDPOINTS.length;
const ZONE = 'Europe/Moscow';

// A full collection before each measurement, so that one variant's garbage is not collected in the other's time.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc');

/** Nanoseconds per op of `run(n)`: wall time, or this process's CPU time (for code that waits). */
async function nsPerOp(run, n, clock) {
  if (clock === 'cpu') {
    const c0 = process.cpuUsage();
    await run(n);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / n;
  }
  const t0 = process.hrtime.bigint();
  await run(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

// ---------------------------------------------------------------------------------------------
// Workloads shaped like a 5,000-till UKM fleet.

const registers = Array.from({ length: FLEET }, (_, i) => ({
  name: `pos${String(i).padStart(5, '0')}`,
  url: `http://10.${(i >> 8) & 255}.${i & 255}.3:8080`,
  labels: { store: String(i % 400).padStart(3, '0'), city: i % 2 ? 'msk' : 'spb' },
}));
const endpointUrls = registers.flatMap((r) => UKM_ENDPOINTS.map((e) => ukmEndpointUrl(r.url, e)));
/** Receipt times over the last day, as UKM's last_receipt_time or downtime gives one per till (no offset). */
const dayAgo = Date.now() - 86_400_000;
const localTimes = Array.from({ length: 2 * FLEET }, (_, i) => DateTime.fromMillis(dayAgo + ((i * 7919_000) % 86_400_000), { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm:ss'));
/** ATOL's and Kassa24's times: ISO 8601 with an offset. */
const offsetTimes = localTimes.map((t) => `${t.replace(' ', 'T')}+03:00`);
/** The label values a register's lines escape: source, kkt, static labels, url, endpoints. */
const labelValues = registers.flatMap((r) => ['stores', r.name, r.labels.store, r.labels.city, r.url, ...UKM_ENDPOINTS]);

function readingsOf(n) {
  return registers.slice(0, n).map((r, i) => {
    const reading = ukmReading(i, { kkt: r.name, labels: r.labels, url: r.url });
    reading.samples.push({ metric: 'kkt_trading', value: 1 });
    return reading;
  });
}

// ---------------------------------------------------------------------------------------------
// Plain copies of src/sources/time.ts without each of its devices.

const ISO_LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const RU_LOCAL_RE = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?$/;
const NO_TIME = new Set(['', 'invalid date', 'null', 'none', '-']);
const ISO_WITH_OFFSET_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;

/** time.ts's localTimeSeconds and wallToUtc, the zone's offset asked of luxon every time (no offset cache). */
function localTimeUncached(text, zone) {
  let m = ISO_LOCAL_RE.exec(text);
  let parts;
  if (m) parts = [m[1], m[2], m[3], m[4], m[5], m[6], m[7]];
  else if ((m = RU_LOCAL_RE.exec(text))) parts = [m[3], m[2], m[1], m[4], m[5], m[6], undefined];
  else return undefined;
  const [y, mo, d, h, mi, s] = parts.slice(0, 6).map((p) => Number(p ?? 0));
  const ms = Number((parts[6] ?? '').padEnd(3, '0'));
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  const offset = (t) => IANAZone.create(zone).offset(t);
  const o1 = offset(wall);
  let guess = wall - o1 * 60_000;
  const o2 = offset(guess);
  if (o1 !== o2) {
    guess -= (o2 - o1) * 60_000;
    const o3 = offset(guess);
    if (o2 !== o3) guess = wall - Math.min(o2, o3) * 60_000;
  }
  return guess / 1000;
}

/** parseVendorTime's steps before the local forms (the "no time" markers, epoch seconds). */
function leadIn(value) {
  const text = value.trim();
  if (NO_TIME.has(text.toLowerCase())) return undefined;
  if (/^\d{9,13}(\.\d+)?$/.test(text)) return undefined;
  return text;
}

const parsers = {
  /** parseVendorTime without the offset cache. */
  noOffsetCache(value, zone) {
    const text = leadIn(value);
    if (ISO_WITH_OFFSET_RE.test(text)) return Date.parse(text) / 1000;
    return localTimeUncached(text, zone);
  },
  /** parseVendorTime without its own parser of the offset-less forms: luxon's, as for any other form. */
  luxonLocal(value, zone) {
    const text = leadIn(value);
    if (ISO_WITH_OFFSET_RE.test(text)) return Date.parse(text) / 1000;
    return DateTime.fromISO(text.replace(' ', 'T'), { zone, setZone: true }).toMillis() / 1000;
  },
  /** parseVendorTime without the ISO-with-offset fast path: the local forms tried, then luxon. */
  luxonOffset(value, zone) {
    const text = leadIn(value);
    const local = localTimeUncached(text, zone);
    if (local !== undefined) return local;
    return DateTime.fromISO(text.replace(' ', 'T'), { zone, setZone: true }).toMillis() / 1000;
  },
};

function parseAll(parse, times) {
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += parse(times[i % times.length], ZONE);
    return sum;
  };
}

// ---------------------------------------------------------------------------------------------
// Copies of code that is not exported: src/sources/ukm/rate-gate.ts's timer, src/http/transport.ts's
// abort listeners, src/metrics/render.ts's register lines.

/** rate-gate.ts as it was: the module-level callback, its arguments passed by setTimeout. */
function fireAtSlot(user, slot) {
  const early = slot - performance.now();
  if (early > 0) setTimeout(fireAtSlot, early, user, slot);
  else user.onSlot();
}

/** The plain form, rate-gate.ts now: a closure per timer. */
function scheduleWithClosure(user, slot, wait) {
  setTimeout(() => {
    const early = slot - performance.now();
    if (early > 0) scheduleWithClosure(user, slot, early);
    else user.onSlot();
  }, wait);
}

function timers(schedule) {
  return (n) =>
    new Promise((resolve) => {
      let left = n;
      const user = { onSlot: () => --left === 0 && resolve() };
      const slot = performance.now() + 1;
      for (let i = 0; i < n; i++) schedule(user, slot);
    });
}

/** transport.ts: the requests in flight per signal, one abort listener per signal. */
const inFlight = new WeakMap();
function track(signal, handler) {
  let handlers = inFlight.get(signal);
  if (!handlers) {
    const set = (handlers = new Set());
    inFlight.set(signal, set);
    signal.addEventListener('abort', () => {
      for (const h of set) h.abort(signal.reason);
    }, { once: true });
  }
  handlers.add(handler);
}

/** One till read's 7 requests under its own signal (SharedDeadline makes one per read). */
function abortListeners(perSignal) {
  return (n) => {
    const signals = Array.from({ length: n }, () => new AbortController().signal);
    const t0 = process.hrtime.bigint();
    for (const signal of signals) {
      for (let r = 0; r < UKM_ENDPOINTS.length; r++) {
        const handler = { abort() {} };
        if (perSignal) {
          track(signal, handler);
          inFlight.get(signal)?.delete(handler);
        } else {
          const onAbort = () => handler.abort(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          signal.removeEventListener('abort', onAbort);
        }
      }
    }
    return { partNs: Number(process.hrtime.bigint() - t0) };
  };
}

/** render.ts's register path (addLine, registerLines, familyText), with or without `flatten`. */
function registerPath(flatten) {
  const names = ['kkt_up', 'kkt_info', ...readingsOf(1)[0].samples.map((s) => s.metric), 'kkt_probe_endpoint_success'];
  const index = new Map(names.map((n, i) => [n, i]));
  const pairs = (labels) => {
    let out = '';
    for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(labels[k])}"`;
    return out;
  };
  const addLine = (block, metric, labels, value) => {
    const i = index.get(metric);
    const line = `${metric}{${labels}} ${value}`;
    const prev = block[i];
    block[i] = prev === undefined ? line : `${prev}\n${line}`;
  };
  return (readings) => {
    const blocks = readings.map((r) => {
      const block = [];
      const base = pairs({ source: 'stores', kkt: r.kkt, ...r.labels });
      addLine(block, 'kkt_up', base, 1);
      addLine(block, 'kkt_info', `${base},${pairs(r.info)}`, 1);
      for (const s of r.samples) addLine(block, s.metric, base, s.value);
      for (const e of r.endpoints) addLine(block, 'kkt_probe_endpoint_success', `${base},endpoint="${escapeLabelValue(e.endpoint)}"`, 1);
      if (flatten) for (const lines of block) lines?.charCodeAt(0);
      return block;
    });
    let bytes = 0;
    for (let i = 0; i < names.length; i++) {
      const lines = [];
      for (const block of blocks) if (block[i] !== undefined) lines.push(block[i]);
      lines.push('');
      bytes += lines.join('\n').length;
    }
    return bytes;
  };
}

// ---------------------------------------------------------------------------------------------
// The plain alternatives of exported code.

/** client.ts's SourceHttp.send as it was, its accounting in `then` callbacks (the code is now an async function). */
class ThenVendorHttp {
  constructor(source, transport, observer) {
    Object.assign(this, { source, transport, observer });
  }

  send(endpoint, req) {
    const started = performance.now();
    const account = (code) => this.observer.request(this.source, endpoint, code, (performance.now() - started) / 1000);
    return this.transport.send(req).then(
      (res) => {
        account(String(res.status));
        return res;
      },
      (err) => {
        account(err instanceof TransportError ? err.failure : 'error');
        throw err;
      },
    );
  }
}

/** `n` requests in flight at once through `http` (a transport that answers when all have been sent), then their answers. */
function sends(Http) {
  return async (n) => {
    const pending = [];
    const transport = { send: () => new Promise((resolve) => pending.push(resolve)), close: async () => {} };
    const observer = { request() {}, rateLimitWait() {}, auth() {} };
    const http = new Http('stores', transport, observer);
    const res = { status: 200, body: Buffer.from('1') };
    const all = [];
    for (let i = 0; i < n; i++) all.push(http.send(UKM_ENDPOINTS[i % 7], { method: 'GET', url: endpointUrls[i % endpointUrls.length] }));
    for (const resolve of pending) resolve(res);
    await Promise.all(all);
  };
}

/** A read that ends at once: only the map and its sweeps are measured. */
class EndedRead extends SharedRead {
  constructor(deadline) {
    super(deadline);
    this.end(true);
  }
}

/** One scrape's 5,000 new reads into a map holding the last scrape's, swept every `sweepEvery` starts. */
function readStarts(sweepEvery) {
  const keys = registers.map((r) => addressKeysAt(registerPlaceOf(r.url), registerPlaceOf(r.url).host).read);
  return (n) => {
    const deadline = Deadline.in(60_000);
    const reads = new SharedReads(sweepEvery);
    for (const key of keys) reads.start(key, new EndedRead(deadline));
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) reads.start(keys[i % keys.length], new EndedRead(deadline));
    const partNs = Number(process.hrtime.bigint() - t0);
    deadline.dispose();
    return { partNs };
  };
}

/** ukm/source.ts's targetOf, built anew for every read. */
function buildTarget(register) {
  const urls = new Map(UKM_ENDPOINTS.map((e) => [e, ukmEndpointUrl(register.url, e)]));
  const place = registerPlaceOf(register.url);
  const keys = place.isIp ? addressKeysAt(place, place.host) : undefined;
  return { urls, zone: ZONE, place, adHoc: false, ...(keys ? { keys } : {}) };
}

/** ukm/source.ts's registerAt: the map made at the first lookup. */
function hostPortMap() {
  const map = new Map();
  for (const r of registers) {
    const place = registerPlaceOf(r.url);
    const key = hostPortOf(place.host, place.port);
    if (!map.has(key)) map.set(key, r);
  }
  return map;
}

const LABEL_ESCAPES = { '\\': '\\\\', '"': '\\"', '\n': '\\n' };

/** A UKM till's answer server in a child process (its CPU is not this one's), sending no Keep-Alive hint. */
async function startRegisterServer() {
  const code = "const s=require('http').createServer((q,r)=>r.end('1'));s.keepAliveTimeout=0;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { child, url: `http://127.0.0.1:${port}/api/v1/status/paper` };
}

function requests(transport, url, keepAlive) {
  return async (n) => {
    const signal = AbortSignal.timeout(60_000);
    for (let i = 0; i < n; i++) await transport.send({ method: 'GET', url, signal, maxBytes: 65536, keepAlive });
  };
}

/** undici's `request()` and a body stream per answer, through an Agent set as UndiciTransport's. */
function streamedRequests(agent, url) {
  return async (n) => {
    const signal = AbortSignal.timeout(60_000);
    for (let i = 0; i < n; i++) {
      const res = await request(url, { dispatcher: agent, signal, headersTimeout: 3000, bodyTimeout: 3000 });
      Buffer.from(await res.body.arrayBuffer());
    }
  };
}

/** prom-client Gauges in a fresh Registry per scrape, as the exporter rendered before render.ts. */
async function promClientRender(readings) {
  const registry = new Registry();
  const base = ['source', 'kkt', 'store', 'city'];
  const gauges = new Map();
  const gauge = (name, extra = []) => {
    let g = gauges.get(name);
    if (!g) gauges.set(name, (g = new Gauge({ name, help: name, labelNames: [...base, ...extra], registers: [registry] })));
    return g;
  };
  for (const r of readings) {
    const labels = { source: 'stores', kkt: r.kkt, ...r.labels };
    gauge('kkt_up').set(labels, 1);
    gauge('kkt_info', ['url']).set({ ...labels, ...r.info }, 1);
    for (const s of r.samples) gauge(s.metric).set(labels, s.value);
    for (const e of r.endpoints) gauge('kkt_probe_endpoint_success', ['endpoint']).set({ ...labels, endpoint: e.endpoint }, 1);
  }
  return (await registry.metrics()).length;
}

// ---------------------------------------------------------------------------------------------

/**
 * Each device: where it is, what it does instead of the plain code, the unit its saving is scaled
 * to (`per`, ops per unit), ops per repetition (`n`), and the two workloads (`run` the device's,
 * `base` the plain one's), each doing `n` ops.
 */
function devices(ctx) {
  const lateTarget = new WeakMap(registers.map((r) => [r, buildTarget(r)]));
  const byHostPort = hostPortMap();
  const hostPorts = registers.map((r) => hostPortOf(registerPlaceOf(r.url).host, registerPlaceOf(r.url).port));
  const scrape = `a ${FLEET.toLocaleString('en')}-till scrape`;
  return [
    {
      name: 'offset-cache', where: 'src/sources/time.ts (`offsetMinutes`)',
      device: "a zone's UTC offset kept per quarter hour", plain: "luxon's `IANAZone.offset` for every time",
      unit: scrape, per: FLEET, n: 20_000,
      run: parseAll(parseVendorTime, localTimes), base: parseAll(parsers.noOffsetCache, localTimes),
    },
    {
      name: 'local-parser', where: 'src/sources/time.ts (`localTimeSeconds`)',
      device: 'the offset-less forms read by two regular expressions', plain: "luxon's `DateTime.fromISO` in the zone",
      unit: scrape, per: FLEET, n: 20_000,
      run: parseAll(parseVendorTime, localTimes), base: parseAll(parsers.luxonLocal, localTimes),
    },
    {
      name: 'iso-fast-path', where: 'src/sources/time.ts (`parseVendorTime`)',
      device: 'ISO 8601 with an offset read by `Date.parse`', plain: "the local forms tried, then luxon's `DateTime.fromISO`",
      unit: 'a 10,000-register ATOL scrape (4 times a register)', per: 40_000, n: 20_000,
      run: parseAll(parseVendorTime, offsetTimes), base: parseAll(parsers.luxonOffset, offsetTimes),
    },
    {
      name: 'timer-callback', where: 'src/sources/ukm/rate-gate.ts (`fireAtSlot`)',
      device: 'a module-level timer callback, its arguments passed by `setTimeout`', plain: 'a closure per timer (the code now)', removed: true,
      unit: scrape, per: REQUESTS, n: REQUESTS,
      run: timers((user, slot) => setTimeout(fireAtSlot, 1, user, slot)), base: timers((user, slot) => scheduleWithClosure(user, slot, 1)),
    },
    {
      name: 'amortised-sweep', where: 'src/sources/shared-read.ts (`SharedReads`; `GateRegistry` likewise)',
      device: 'ended reads swept out once every 10,000 new ones', plain: 'the sweep at every new read',
      unit: scrape, per: FLEET, n: FLEET,
      run: readStarts(10_000), base: readStarts(1),
    },
    {
      name: 'keep-alive', where: 'src/http/transport.ts (`keepAliveTimeout: 30_000`)', clock: 'cpu',
      device: 'an idle connection kept 30 s when the till sends no Keep-Alive hint', plain: "undici's 4 s: a new connection for each till's first request of a scrape 30 s after the last",
      unit: scrape, per: FLEET, n: 1000,
      run: requests(ctx.transports[0], ctx.registerServer.url, true), base: requests(ctx.transports[1], ctx.registerServer.url, false),
    },
    {
      name: 'dispatch-handler', where: 'src/http/transport.ts (`UndiciTransport`, `CollectingHandler`)', clock: 'cpu',
      device: "undici's `dispatch()` with a handler that collects the body", plain: "undici's `request()` and a body stream per answer",
      unit: scrape, per: REQUESTS, n: 1000,
      run: requests(ctx.transports[0], ctx.registerServer.url, true), base: streamedRequests(ctx.agent, ctx.registerServer.url),
    },
    {
      name: 'url-weakmap', where: 'src/sources/ukm/source.ts (`targets`)',
      device: "a register's endpoint URLs and place built once, kept in a WeakMap", plain: 'built for every read (8 URL parses)',
      unit: scrape, per: FLEET, n: FLEET,
      run: (n) => { for (let i = 0; i < n; i++) lateTarget.get(registers[i % FLEET]); }, base: (n) => { for (let i = 0; i < n; i++) buildTarget(registers[i % FLEET]); },
    },
    {
      name: 'split-url', where: 'src/http/transport.ts (`splitUrl`)',
      device: 'origin and path cut from the URL string', plain: '`new URL()` per request',
      unit: scrape, per: REQUESTS, n: REQUESTS,
      run: (n) => { for (let i = 0; i < n; i++) splitUrl(endpointUrls[i]); }, base: (n) => { for (let i = 0; i < n; i++) { const u = new URL(endpointUrls[i]); ({ origin: u.origin, path: u.pathname + u.search }); } },
    },
    {
      name: 'abort-per-signal', where: 'src/http/transport.ts (`inFlight`, `track`)',
      device: 'one abort listener per signal, the requests under it in a set', plain: 'an abort listener added and removed per request',
      unit: scrape, per: FLEET, n: FLEET,
      run: abortListeners(true), base: abortListeners(false),
    },
    {
      name: 'send-callbacks', where: 'src/http/client.ts (`SourceHttp.send`)',
      device: 'the accounting in `then` callbacks', plain: 'an async function (the code now)',
      unit: scrape, per: REQUESTS, n: FLEET,
      run: sends(ThenVendorHttp), base: sends(SourceHttp), removed: true,
    },
    {
      name: 'one-chunk-body', where: 'src/http/transport.ts (`onResponseEnd`)',
      device: 'a one-chunk body kept as it came', plain: '`Buffer.concat` of every body',
      unit: scrape, per: REQUESTS, n: REQUESTS,
      run: (n) => { const c = Buffer.from('2026-03-05 14:02:11'); for (let i = 0; i < n; i++) { const chunks = [c]; chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, c.length); } },
      base: (n) => { const c = Buffer.from('2026-03-05 14:02:11'); for (let i = 0; i < n; i++) Buffer.concat([c], c.length); },
    },
    {
      name: 'plain-metrics', where: 'src/metrics/plain-metrics.ts',
      device: 'request counter and histogram in nested maps by label value', plain: "prom-client's `Counter.inc` and `Histogram.observe` with label objects",
      unit: scrape, per: REQUESTS, n: REQUESTS,
      run: (n) => {
        const registry = new Registry();
        const count = new RequestCounter('kkt_exporter_requests_total', registry);
        const seconds = new RequestHistogram('kkt_exporter_request_duration_seconds', registry, ctx.buckets);
        for (let i = 0; i < n; i++) { const e = UKM_ENDPOINTS[i % 7]; count.inc(1, 'stores', e, '200'); seconds.observe(0.002, 'stores', e); }
      },
      base: (n) => {
        const registry = new Registry();
        const count = new Counter({ name: 'kkt_exporter_requests_total', help: 'x', labelNames: ['source', 'endpoint', 'code'], registers: [registry] });
        const seconds = new Histogram({ name: 'kkt_exporter_request_duration_seconds', help: 'x', labelNames: ['source', 'endpoint'], buckets: ctx.buckets, registers: [registry] });
        for (let i = 0; i < n; i++) { const e = UKM_ENDPOINTS[i % 7]; count.inc({ source: 'stores', endpoint: e, code: '200' }, 1); seconds.observe({ source: 'stores', endpoint: e }, 0.002); }
      },
    },
    {
      name: 'own-writer', where: 'src/metrics/render.ts',
      device: 'the exposition text written directly', plain: 'prom-client Gauges in a fresh Registry',
      unit: scrape, per: 1, n: 1,
      run: () => renderSourceChunks([{ source: 'stores', success: true, durationSeconds: 6, registers: readingsOf(FLEET) }]), base: () => promClientRender(readingsOf(FLEET)),
    },
    {
      name: 'flatten', where: 'src/metrics/render.ts (`flatten`)',
      device: "each family's lines of a register flattened before the join", plain: 'joined as built',
      unit: scrape, per: 1, n: 1,
      run: () => ctx.flat(ctx.readings), base: () => ctx.unflat(ctx.readings),
    },
    {
      name: 'escape-fast-path', where: 'src/metrics/render.ts (`escapeLabelValue`)',
      device: 'a test for a character to escape before replacing', plain: '`replace` alone',
      unit: scrape, per: labelValues.length, n: labelValues.length,
      run: (n) => { for (let i = 0; i < n; i++) escapeLabelValue(labelValues[i]); }, base: (n) => { for (let i = 0; i < n; i++) labelValues[i].replace(/[\\"\n]/g, (c) => LABEL_ESCAPES[c] ?? c); },
    },
    {
      name: 'host-port-map', where: 'src/sources/ukm/source.ts (`registerAt`)',
      device: 'configured registers by host:port, a map made at the first lookup', plain: "a search of the source's registers, each URL read",
      unit: `a /probe by host:port of a ${FLEET.toLocaleString('en')}-register source`, per: 1, n: 20,
      run: (n) => { for (let i = 0; i < n; i++) byHostPort.get(hostPorts[(i * 997) % FLEET]); },
      base: (n) => { for (let i = 0; i < n; i++) { const k = hostPorts[(i * 997) % FLEET]; registers.find((r) => { const p = registerPlaceOf(r.url); return hostPortOf(p.host, p.port) === k; }); } },
    },
    {
      name: 'sync-gzip', where: 'src/server/compress.ts (`SYNC_GZIP_BELOW`)', clock: 'cpu',
      device: '`gzipSync` for an answer under 64 KiB', plain: "zlib's asynchronous gzip on the thread pool",
      unit: 'a /probe of one till (a 1.2 KB answer)', per: 1, n: 200,
      run: async (n) => { for (let i = 0; i < n; i++) await gzipAnswer([ctx.probeAnswer], GZIP_LEVEL); },
      base: async (n) => { for (let i = 0; i < n; i++) await ctx.gzip(ctx.probeAnswer, { level: GZIP_LEVEL }); },
    },
    {
      name: 'auth-cache', where: 'src/server/basic-auth.ts (`Lru`)',
      device: 'a checked password remembered (salted, hashed) for the next request', plain: 'bcrypt at cost 10 on every request',
      unit: 'an authenticated scrape or probe', per: 1, n: 2,
      run: async (n) => { for (let i = 0; i < n; i++) await ctx.auth.check(ctx.authorization, '127.0.0.1'); },
      base: async (n) => { for (let i = 0; i < n; i++) await ctx.comparer.compare('secret', ctx.hash); },
    },
  ];
}

/** ns per op of `run`: the whole of it, or the part it timed itself when it returns `{ partNs }`. */
async function measure(run, n, clock) {
  collect();
  let part;
  const whole = await nsPerOp(async (k) => (part = (await run(k))?.partNs), n, clock);
  return part !== undefined ? part / n : whole;
}

async function compare(device) {
  const clock = device.clock ?? 'wall';
  await device.run(device.n);
  await device.base(device.n);
  const ds = [];
  const ps = [];
  for (let i = 0; i < REPS; i++) {
    // Alternating which goes first, so a drift of the machine does not favour one.
    if (i % 2 === 0) ds.push(await measure(device.run, device.n, clock));
    ps.push(await measure(device.base, device.n, clock));
    if (i % 2 === 1) ds.push(await measure(device.run, device.n, clock));
  }
  const ratios = ds.map((d, i) => ps[i] / d);
  const ratio = median(ratios);
  const [min, max] = [Math.min(...ratios), Math.max(...ratios)];
  // It pays when the plain code was slower in every repetition: the run's noise never turned it round.
  return { ...device, deviceNs: median(ds), plainNs: median(ps), ratio, min, max, pays: min > 1 };
}

const fmtNs = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} us` : `${ns.toFixed(0)} ns`);
const fmtRatio = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtMs = (ms) => (Math.abs(ms) >= 10 ? ms.toFixed(0) : Math.abs(ms) >= 0.1 ? ms.toFixed(1) : ms.toFixed(3));

async function main() {
  const only = process.argv.slice(2);
  const registerServer = await startRegisterServer();
  // One each: a variant's connections and pools are not the other's.
  const transports = [new UndiciTransport({ connectionsPerOrigin: 1 }), new UndiciTransport({ connectionsPerOrigin: 1 })];
  const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  const hash = bcrypt.hashSync('secret', 10);
  const comparer = { compare: async (password, h) => bcrypt.compareSync(password, h), close: async () => {} };
  const auth = createBasicAuth({ prometheus: hash }, { comparer });
  const authorization = `Basic ${Buffer.from('prometheus:secret').toString('base64')}`;
  if ((await auth.check(authorization, '127.0.0.1')) !== 'ok') throw new Error('basic auth refused the password');
  const probeAnswer = renderSourceChunks([{ source: 'stores', success: true, durationSeconds: 6, registers: readingsOf(1) }]).join('');
  const ctx = {
    registerServer, transports, agent, auth, authorization, comparer, hash, probeAnswer,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    readings: readingsOf(FLEET), flat: registerPath(true), unflat: registerPath(false),
    gzip: promisify(gzipCallback),
  };
  // The plain copies must give what the code gives.
  for (const [parse, times] of [[parsers.noOffsetCache, localTimes], [parsers.luxonLocal, localTimes], [parsers.luxonOffset, offsetTimes]]) {
    for (const t of times.slice(0, 200)) if (parse(t, ZONE) !== parseVendorTime(t, ZONE)) throw new Error(`${parse.name}(${t}) = ${parse(t, ZONE)}, parseVendorTime: ${parseVendorTime(t, ZONE)}`);
  }
  if (ctx.flat(ctx.readings.slice(0, 10)) !== ctx.unflat(ctx.readings.slice(0, 10))) throw new Error('flatten changed the text');
  if (gzipSync(probeAnswer).length === 0) throw new Error('no probe answer');
  const list = devices(ctx).filter((d) => only.length === 0 || only.includes(d.name));
  const rows = [];
  try {
    for (const d of list) rows.push(await compare(d));
  } finally {
    await Promise.all([...transports.map((t) => t.close()), agent.close()]);
    registerServer.child.kill();
  }
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`kkt-exporter performance devices, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, load ${load}, Node ${process.version}, ${REPS} repetitions\n`);
  console.log('| device | in | plain alternative | device, per op | plain, per op | plain / device, median (min-max) | saved, ms per unit | unit | pays | verdict |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const saved = ((r.plainNs - r.deviceNs) * r.per) / 1e6;
    console.log(`| ${r.name}: ${r.device} | ${r.where} | ${r.plain} | ${fmtNs(r.deviceNs)} | ${fmtNs(r.plainNs)} | ${fmtRatio(r.ratio)} (${fmtRatio(r.min)}-${fmtRatio(r.max)}) | ${fmtMs(saved)} | ${r.unit} | ${r.pays ? 'yes' : 'no'} | ${r.removed ? 'removed (measured on a copy)' : 'kept'} |`);
  }
}

await main();
