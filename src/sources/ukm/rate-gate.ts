/** The register's next free slot is past the deadline, so the request is not sent at all. */
export class GateDeadlineError extends Error {
  constructor(waitMs: number) {
    super(`deadline reached before the register's next free slot (${(waitMs / 1000).toFixed(2)}s away)`);
    this.name = 'GateDeadlineError';
  }
}

/** A request shorter than this is not worth starting just before the deadline. */
const MIN_REQUEST_MS = 20;

/** A caller of the gate: it is told when the register may be asked, and releases the gate after. */
export interface GateUser {
  readonly intervalMs: number;
  /** When the caller's deadline is, in performance.now() milliseconds. */
  deadline(): number;
  /** The register may be asked now; call `release()` when the request has ended. */
  onSlot(): void;
  /** The slot would come after the deadline: nothing was sent, and the gate is not held. */
  onRefused(err: GateDeadlineError): void;
  onWait?(ms: number): void;
}

/**
 * Serialises every request to one register and spaces them: the next request starts no sooner than
 * `intervalMs` after the previous one *ended*. Spacing from the end, not the start, is what makes the
 * 1 request/s promise hold at the register: a request arrives there before its answer comes back.
 *
 * Callback-driven rather than a promise chain: with thousands of registers, async frames held across
 * each one-second wait were the largest source of garbage (docs/benchmark.md, the device table).
 */
export class RateGate {
  private holder: GateUser | undefined;
  private readonly waiting: GateUser[] = [];
  private lastEnd = -Infinity;
  /** Until when the last request's spacing holds: its end plus the longest interval of its callers. */
  private quietAt = -Infinity;

  get queued(): number {
    return this.waiting.length + (this.holder ? 1 : 0);
  }

  /**
   * A request is in flight or queued, or one ended less than its interval ago: dropping the gate
   * now would let the next request come too soon.
   */
  get guarding(): boolean {
    return this.queued > 0 || performance.now() < this.quietAt;
  }

  /** No request is queued or in flight, the last one's interval is over, and none ended in the last `ms`: the gate may be dropped. */
  unusedFor(ms: number): boolean {
    return this.queued === 0 && performance.now() >= Math.max(this.quietAt, this.lastEnd + ms);
  }

  acquire(user: GateUser): void {
    if (this.holder) this.waiting.push(user);
    else this.grant(user);
  }

  /** The holder's request has ended (or was not sent): the next slot counts from now. */
  release(): void {
    this.lastEnd = performance.now();
    if (this.holder) this.quietAt = Math.max(this.quietAt, this.lastEnd + this.holder.intervalMs);
    this.holder = undefined;
    this.grantNext();
  }

  private grantNext(): void {
    const next = this.waiting.shift();
    if (next) this.grant(next);
  }

  private grant(user: GateUser): void {
    const slot = this.lastEnd + user.intervalMs;
    const wait = slot - performance.now();
    if (slot > user.deadline() - MIN_REQUEST_MS) {
      user.onRefused(new GateDeadlineError(Math.max(0, wait)));
      this.grantNext();
      return;
    }
    this.holder = user;
    if (wait <= 0) return user.onSlot();
    user.onWait?.(wait);
    setTimeout(() => fireAtSlot(user, slot), wait);
  }
}

/** Timers may fire a little early; never start before the slot. */
function fireAtSlot(user: GateUser, slot: number): void {
  const early = slot - performance.now();
  if (early > 0) setTimeout(() => fireAtSlot(user, slot), early);
  else user.onSlot();
}

/**
 * One gate per register address for the whole process, shared by every source, scrape, probe and config
 * generation that reaches it: keyed by where the requests go (scheme, address, port), never by
 * how a register's URL is spelt. Gates unused for `unusedMs` are dropped as new ones come; a gate that
 * still guards its register (`guarding`) is never dropped.
 */
export class GateRegistry {
  private readonly gates = new Map<string, RateGate>();
  private createdSinceSweep = 0;

  constructor(private readonly sweepEvery = 1000, private readonly unusedMs = 60_000) {}

  get size(): number {
    return this.gates.size;
  }

  get(key: string): RateGate {
    let gate = this.gates.get(key);
    if (!gate) {
      if (++this.createdSinceSweep >= this.sweepEvery) this.sweep();
      gate = new RateGate();
      this.gates.set(key, gate);
    }
    return gate;
  }

  /** The gate of `key` if there is one; `get` makes one. */
  peek(key: string): RateGate | undefined {
    return this.gates.get(key);
  }

  /** Drops the gate of `key` unless it still guards its register; true when it is gone. */
  dropQuiet(key: string): boolean {
    const gate = this.gates.get(key);
    if (gate?.guarding) return false;
    this.gates.delete(key);
    return true;
  }

  private sweep(): void {
    this.createdSinceSweep = 0;
    for (const [key, gate] of this.gates) if (gate.unusedFor(this.unusedMs)) this.gates.delete(key);
  }
}
