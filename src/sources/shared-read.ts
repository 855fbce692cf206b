import { SharedDeadline, type Deadline } from '../deadline/deadline.js';

/**
 * One read shared by every caller that asks for the same thing while it runs (a register's endpoints,
 * a vendor's fleet). It goes on until the latest deadline among them, so a later caller with more
 * time is not cut short by an earlier one, and stops there. Once ended, what it gave may be given
 * again for a while instead of reading anew (`freshFor`). `V` is what each caller brings that the
 * read needs while that caller waits (its way to the network), or undefined.
 *
 * A base class rather than an entry wrapping the read: the UKM pool makes one read per register per
 * scrape, and a subclass keeps that one object.
 */
export abstract class SharedRead<V = undefined> {
  /** When the read ended (performance.now()), or undefined while it runs. */
  endedAt: number | undefined;
  /** The latest deadline among the callers sharing the read, and what that caller brought. */
  protected readonly shared: SharedDeadline<V>;
  private reusable = false;

  constructor(deadline: Deadline, value?: V) {
    this.shared = new SharedDeadline(deadline, value);
  }

  /** Whether the read gets everything a caller bringing `value` asks for. */
  serves(_value: V): boolean {
    return true;
  }

  /** Running, and some caller's deadline still to come: a new caller may join it. */
  get running(): boolean {
    return this.endedAt === undefined && !this.shared.signal.aborted;
  }

  /** Ended less than `ms` ago, and not cut short: what it gave may be given again. */
  freshFor(ms: number): boolean {
    return this.endedAt !== undefined && this.reusable && performance.now() - this.endedAt < ms;
  }

  /** A caller joined: the read goes on until its deadline if that is later. */
  join(deadline: Deadline, value?: V): void {
    this.shared.extendTo(deadline, value);
  }

  /** The read is over; `reusable` unless it was cut short (by a deadline, or a failure not worth keeping). */
  protected end(reusable: boolean): void {
    this.shared.end();
    this.reusable = reusable;
    this.endedAt = performance.now();
  }
}

/**
 * The shared reads by key: a caller joins the read running under its key, or is given one that
 * ended less than its freshness window ago, or starts one. Reads that ended `idleMs` ago are swept
 * out after every `sweepEvery` started (keys that are not asked for any more, such as registers a
 * reload removed); a caller that bounds its keys otherwise deletes them itself.
 */
export class SharedReads<K, V, R extends SharedRead<V>> {
  private readonly reads = new Map<K, R>();
  private startedSinceSweep = 0;

  constructor(private readonly sweepEvery = 10_000, private readonly idleMs = 60_000) {}

  get size(): number {
    return this.reads.size;
  }

  /** The read running under `key`, or the last one. */
  get(key: K): R | undefined {
    return this.reads.get(key);
  }

  /**
   * The read under `key` a caller with `deadline` and `value` can share: the running one, joined
   * (it now goes on until `deadline` if that is later), else one that ended less than `freshMs` ago;
   * undefined when there is none and the caller must start one.
   */
  share(key: K, deadline: Deadline, value: V, freshMs: number): R | undefined {
    const read = this.reads.get(key);
    if (read === undefined) return undefined;
    if (read.running) {
      if (!read.serves(value)) return undefined;
      read.join(deadline, value);
      return read;
    }
    // `serves` last: a read that is neither running nor fresh, the usual case, costs no more.
    return read.freshFor(freshMs) && read.serves(value) ? read : undefined;
  }

  /** `read`, just started, is the one under `key` from now on. */
  start(key: K, read: R): R {
    this.reads.set(key, read);
    if (++this.startedSinceSweep >= this.sweepEvery) this.sweep();
    return read;
  }

  delete(key: K): void {
    this.reads.delete(key);
  }

  private sweep(): void {
    this.startedSinceSweep = 0;
    const before = performance.now() - this.idleMs;
    for (const [key, read] of this.reads) if (read.endedAt !== undefined && read.endedAt < before) this.reads.delete(key);
  }
}
