import type { Deadline } from './deadline.js';

/** The register's next free slot is past the deadline, so the request is not sent at all. */
export class GateDeadlineError extends Error {
  constructor(readonly waitMs: number) {
    super(`deadline reached before the register's next free slot (${(waitMs / 1000).toFixed(2)}s away)`);
    this.name = 'GateDeadlineError';
  }
}

export interface GateRunOptions {
  /** At least this long between the end of one request and the start of the next. */
  intervalMs: number;
  /** Read when the slot comes up, so a shared read can extend it. */
  deadline: () => Deadline;
  signal?: AbortSignal;
  onWait?: (ms: number) => void;
}

/** A request shorter than this is not worth starting just before the deadline. */
const MIN_REQUEST_MS = 20;

/**
 * Serialises every request to one register and spaces them: the next request starts no sooner than
 * `intervalMs` after the previous one *ended*. Spacing from the end, not the start, is what makes the
 * 1 request/s promise hold at the register: a request arrives there before its answer comes back.
 */
export class RateGate {
  /** Settles when the caller holding the gate is done; undefined when the gate is free. */
  private held: Promise<void> | undefined;
  private waiting = 0;
  private lastEnd = -Infinity;

  constructor(readonly key: string) {}

  get queued(): number {
    return this.waiting + (this.held ? 1 : 0);
  }

  /** True when a request could start now without waiting. */
  idleFor(intervalMs: number): boolean {
    return this.queued === 0 && performance.now() >= this.lastEnd + intervalMs;
  }

  /*
   * A hand-rolled mutex rather than p-limit(1): this runs for every request to every till, and
   * p-limit's queue and async-context binding were a tenth of the exporter's garbage at 5,000 tills.
   */
  async run<T>(fn: () => Promise<T>, opts: GateRunOptions): Promise<T> {
    while (this.held) {
      this.waiting++;
      await this.held;
      this.waiting--;
    }
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    try {
      const slot = this.lastEnd + opts.intervalMs;
      const wait = Math.max(0, slot - performance.now());
      if (slot > opts.deadline() - MIN_REQUEST_MS) throw new GateDeadlineError(wait);
      if (wait > 0) {
        opts.onWait?.(wait);
        // Timers may fire a little early; never start before the slot. The slot is before the
        // deadline (checked above), so the sleep needs no abort listener of its own.
        while (performance.now() < slot) await sleep(slot - performance.now());
      }
      opts.signal?.throwIfAborted();
      try {
        return await fn();
      } finally {
        this.lastEnd = performance.now();
      }
    } finally {
      this.held = undefined;
      release();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One gate per register for the whole process, shared by every source, scrape, probe and config
 * generation that reaches the same register. Gates idle long enough to hold no promise are dropped.
 */
export class GateRegistry {
  private readonly gates = new Map<string, RateGate>();
  private createdSinceSweep = 0;

  constructor(private readonly sweepEvery = 1000, private readonly idleMs = 60_000) {}

  get size(): number {
    return this.gates.size;
  }

  get(key: string): RateGate {
    let gate = this.gates.get(key);
    if (!gate) {
      if (++this.createdSinceSweep >= this.sweepEvery) this.sweep();
      gate = new RateGate(key);
      this.gates.set(key, gate);
    }
    return gate;
  }

  private sweep(): void {
    this.createdSinceSweep = 0;
    for (const [key, gate] of this.gates) if (gate.idleFor(this.idleMs)) this.gates.delete(key);
  }
}
