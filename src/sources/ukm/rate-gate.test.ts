import { describe, expect, it } from 'vitest';
import { GateDeadlineError, GateRegistry, RateGate } from './rate-gate.js';

const INTERVAL = 100;

interface RunOptions {
  intervalMs: number;
  /** When the deadline is, in performance.now() milliseconds. */
  deadline: () => number;
  onWait?: (ms: number) => void;
}

/** One request through the gate, as the UKM read does it: acquire, send when told, release after. */
function run<T>(gate: RateGate, fn: () => Promise<T>, opts: RunOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    gate.acquire({
      intervalMs: opts.intervalMs,
      deadline: opts.deadline,
      onWait: opts.onWait,
      onRefused: reject,
      onSlot: () => {
        fn().then(resolve, reject).finally(() => gate.release());
      },
    });
  });
}
const far = () => performance.now() + 60_000;

/** Runs a fake request that records when it started and ended. */
function recorder() {
  const spans: Array<{ start: number; end: number }> = [];
  const request = (ms = 5) => async () => {
    const start = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    spans.push({ start, end: performance.now() });
  };
  return { spans, request };
}

function gaps(spans: Array<{ start: number; end: number }>): number[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  return sorted.slice(1).map((s, i) => s.start - (sorted[i] as { end: number }).end);
}

describe('RateGate', () => {
  it('spaces requests by the interval from the end of the previous one', async () => {
    const gate = new RateGate();
    const { spans, request } = recorder();
    for (let i = 0; i < 3; i++) await run(gate, request(20), { intervalMs: INTERVAL, deadline: far });
    expect(spans).toHaveLength(3);
    for (const gap of gaps(spans)) expect(gap).toBeGreaterThanOrEqual(INTERVAL);
  });

  it('serialises concurrent callers: never two requests at once, never closer than the interval', async () => {
    const gate = new RateGate();
    const { spans, request } = recorder();
    await Promise.all(Array.from({ length: 6 }, () => run(gate, request(10), { intervalMs: INTERVAL, deadline: far })));
    expect(spans).toHaveLength(6);
    for (const gap of gaps(spans)) expect(gap).toBeGreaterThanOrEqual(INTERVAL);
  });

  it('does not send a request whose slot comes after the deadline, and reports the wait', async () => {
    const gate = new RateGate();
    const { spans, request } = recorder();
    await run(gate, request(), { intervalMs: INTERVAL, deadline: far });
    const late = run(gate, request(), { intervalMs: INTERVAL, deadline: () => performance.now() + 30 });
    await expect(late).rejects.toBeInstanceOf(GateDeadlineError);
    expect(spans).toHaveLength(1);
    // The refused caller did not hold the gate: the next one goes at its normal slot.
    const t0 = performance.now();
    await run(gate, request(), { intervalMs: INTERVAL, deadline: far });
    expect(performance.now() - t0).toBeLessThan(INTERVAL + 50);
  });

  it('tells how long a request waited for its slot', async () => {
    const gate = new RateGate();
    const waits: number[] = [];
    const { request } = recorder();
    await run(gate, request(), { intervalMs: INTERVAL, deadline: far, onWait: (ms) => waits.push(ms) });
    await run(gate, request(), { intervalMs: INTERVAL, deadline: far, onWait: (ms) => waits.push(ms) });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(INTERVAL - 20);
  });
});

describe('GateRegistry', () => {
  it('hands every caller (any source, any config generation) the same gate for one register', () => {
    const gates = new GateRegistry();
    expect(gates.get('http://10.0.0.1:8080')).toBe(gates.get('http://10.0.0.1:8080'));
    expect(gates.get('http://10.0.0.1:8080')).not.toBe(gates.get('http://10.0.0.2:8080'));
    expect(gates.size).toBe(2);
  });

  it('drops only gates that are idle, so spacing is never lost', async () => {
    const gates = new GateRegistry(3, 0);
    const busy = gates.get('busy');
    const running = run(busy, () => new Promise((r) => setTimeout(r, 50)), { intervalMs: 0, deadline: far });
    gates.get('idle-1');
    gates.get('idle-2'); // third creation sweeps
    expect(gates.get('busy')).toBe(busy);
    await running;
  });
});

describe('GateRegistry.dropQuiet', () => {
  it('keeps a gate while it guards its register: a request in flight, or one ended less than the longest interval of its callers ago', async () => {
    const gates = new GateRegistry();
    const gate = gates.get('register');
    const inFlight = run(gate, () => new Promise((r) => setTimeout(r, 30)), { intervalMs: 40, deadline: far });
    expect(gates.dropQuiet('register')).toBe(false);
    await inFlight;
    await run(gate, async () => {}, { intervalMs: 150, deadline: far }); // waits 40 ms, then holds the register for 150
    await run(gates.get('register'), async () => {}, { intervalMs: 20, deadline: far }).catch(() => {});
    await new Promise((r) => setTimeout(r, 60));
    expect(gate.guarding).toBe(true); // 150 ms from the second request, though the last caller asked only 20
    expect(gates.dropQuiet('register')).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect(gates.dropQuiet('register')).toBe(true);
    expect(gates.peek('register')).toBeUndefined();
  });
});
