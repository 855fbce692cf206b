// Scenario 0, the floor: what the wire alone costs on this machine. The simulated fleet of the UKM
// scenarios, read by a bare undici loop in a child process of its own (bench/floor-loop.mjs) that
// sends the same spaced requests as a full /metrics scrape and does nothing else. The UKM bars are
// ratios to it: a scrape cannot beat the time this loop takes, however little work the exporter
// does per request. The loop runs a round when asked, so that bench/ukm.mjs can pair each of its
// rounds with an exporter scrape against the same simulator.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, stop } from './lib.mjs';

/**
 * Starts the loop on the register URLs of `config` (written by the simulator). `round()` runs one
 * full round and resolves with its wall and CPU seconds; a failed request fails the benchmark, since
 * a loop that skipped requests is not a floor.
 */
export async function startFloorLoop(config, registers) {
  const child = spawn(process.execPath, [join(ROOT, 'bench/floor-loop.mjs'), config], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (key) => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`floor loop exited (code ${child.exitCode}) before its ${key} line`);
    const message = JSON.parse(value)[key];
    if (!message) throw new Error(`floor loop: expected a ${key} line, got ${value}`);
    return message;
  };
  const ready = await next('ready');
  if (ready.registers !== registers) {
    await stop(child);
    throw new Error(`floor: read ${ready.registers} registers from ${config}, expected ${registers}`);
  }
  return {
    pid: child.pid,
    requests_per_round: ready.requests_per_round,
    async round() {
      child.stdin.write('round\n');
      const r = await next('round');
      if (r.failures > 0) throw new Error(`floor: ${r.failures} requests failed; the floor is not a floor`);
      return { wall_s: r.wall_s, cpu_s: r.cpu_s };
    },
    stop() {
      child.stdin.end();
      return stop(child);
    },
  };
}
