// The floor's child process: a bare loop on undici alone (the exporter's own dependency, one
// connection per origin, `dispatch()` with a handler that only collects the body) doing what a full
// UKM read of the fleet does on the wire and nothing else: every till asked its 7 endpoints in order,
// each request starting 1 s after the till's previous one ENDED (the exporter's rule), all tills in
// parallel. No parsing, no metrics, no rendering, no HTTP server.
//
// usage: node bench/floor-loop.mjs CONFIG
// CONFIG is the exporter config the simulator wrote (--config-out); the register URLs come from it.
// Prints {"ready":{...}} (the tills and requests per round), then runs one round for each line
// `round` it reads on stdin and prints {"round":{...}}: the round's wall time (first request out to
// last answer in), the CPU seconds this process used during it (from /proc, as for the exporter) and
// the requests that failed. Exits when stdin ends. The caller paces the rounds (bench/ukm.mjs).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent } from 'undici';
import { parse } from 'yaml';
import { cpuSeconds } from './lib.mjs';

const ENDPOINTS = ['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight'];
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 10_000;

const [configPath] = process.argv.slice(2);
const config = parse(readFileSync(configPath, 'utf8'));
const registers = config.sources
  .filter((s) => s.type === 'ukm')
  .flatMap((s) => s.registers)
  .map((r) => {
    const urls = ENDPOINTS.map((e) => new URL(`api/v1/status/${e}`, r.url));
    return { origin: urls[0].origin, paths: urls.map((u) => u.pathname + u.search) };
  });

// As the exporter's UndiciTransport builds it for a UKM source.
const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000, pipelining: 1 });

/** Collects one answer's body, like the exporter's handler, and calls `done(ok)` when it ends. */
class Collect {
  constructor(done) {
    this.done = done;
    this.status = 0;
    this.chunks = [];
  }
  onRequestStart() {}
  onResponseStart(_controller, statusCode) {
    this.status = statusCode;
  }
  onResponseData(_controller, chunk) {
    this.chunks.push(chunk);
  }
  onResponseEnd() {
    if (this.chunks.length > 1) Buffer.concat(this.chunks);
    // 204 is an answer too: no paper, no Vision, no open receipt.
    this.done(this.status >= 200 && this.status < 300);
  }
  onResponseError() {
    this.done(false);
  }
}

/** One full round: resolves with the wall seconds from the first request out to the last answer in. */
function round(failed) {
  return new Promise((resolve) => {
    let left = registers.length;
    const t0 = performance.now();
    const step = (register, i) => {
      agent.dispatch(
        { origin: register.origin, path: register.paths[i], method: 'GET', headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS },
        new Collect((ok) => {
          if (!ok) failed();
          if (i + 1 < ENDPOINTS.length) setTimeout(atSlot, INTERVAL_MS, register, i + 1, performance.now() + INTERVAL_MS);
          else if (--left === 0) resolve((performance.now() - t0) / 1000);
        }),
      );
    };
    // Timers may fire a little early (the exporter's rate gate checks the same way): never before the slot.
    const atSlot = (register, i, slot) => {
      const early = slot - performance.now();
      if (early > 0) setTimeout(atSlot, early, register, i, slot);
      else step(register, i);
    };
    for (const register of registers) step(register, 0);
  });
}

const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

say({ ready: { registers: registers.length, requests_per_round: registers.length * ENDPOINTS.length } });
for await (const command of createInterface({ input: process.stdin })) {
  if (command !== 'round') throw new Error(`floor-loop: unknown command ${JSON.stringify(command)}`);
  let failures = 0;
  const cpu0 = cpuSeconds(process.pid);
  const wall = await round(() => failures++);
  say({ round: { wall_s: +wall.toFixed(3), cpu_s: +(cpuSeconds(process.pid) - cpu0).toFixed(2), failures } });
}
await agent.close();
