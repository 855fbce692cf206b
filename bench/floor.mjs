// Scenario 0, the floor: what the wire alone costs on this machine. The same simulated fleet as the
// UKM scenarios (the simulator started the same way, --ukm=N --config-out=...), read by a bare undici
// loop in a child process of its own (bench/floor-loop.mjs) that sends the same spaced requests as a
// full /metrics scrape and does nothing else. The UKM bars are ratios to it: a 5,000-till scrape
// cannot beat the time this loop takes, however little work the exporter does per request.
import { join } from 'node:path';
import { ROOT, startNode, stop } from './lib.mjs';
import { FULL_READ_SECONDS, startUkmSimulator, violations } from './ukm.mjs';

/** A warm-up round, then `rounds` rounds 10 s apart; wall and CPU are each the worst of them. */
export async function benchFloor(registers, rounds = 2) {
  const { sim, config, control } = await startUkmSimulator(registers);
  let loop;
  try {
    loop = await startNode(join(ROOT, 'bench/floor-loop.mjs'), [config, String(rounds)], /^(\{"floor".*\})\n/m);
    const r = JSON.parse(loop.match[1]).floor;
    if (r.tills !== registers) throw new Error(`floor: read ${r.tills} tills from ${config}, expected ${registers}`);
    if (r.failures > 0) throw new Error(`floor: ${r.failures} requests failed; the floor is not a floor`);
    const wall = Math.max(...r.rounds.map((x) => x.wall_s));
    return {
      registers,
      requests_per_round: r.requests_per_round,
      warmup_round_s: r.warmup_s,
      round_s: r.rounds.map((x) => x.wall_s),
      cpu_s: r.rounds.map((x) => x.cpu_s),
      wall_s: wall,
      cpu_s_per_round: Math.max(...r.rounds.map((x) => x.cpu_s)),
      ratio_to_6s: +(wall / FULL_READ_SECONDS).toFixed(3),
      peak_rss_mb: r.peak_rss_mb,
      rate_violations: await violations(control),
    };
  } finally {
    await Promise.all([loop ? stop(loop.child) : undefined, stop(sim.child)]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 5000);
  console.log(await benchFloor(n));
}
