/** Prometheus sends its scrape timeout in this header; the probe must answer before it. */
export const SCRAPE_TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds';

/**
 * The longest a probe may take, whatever a client or the config asks: Prometheus's staleness window.
 * A scrape that takes longer would leave its series stale anyway, and Node's timers overflow past
 * 2^31 ms (they fire at once).
 */
export const MAX_PROBE_SECONDS = 300;

/**
 * Seconds a probe may take, as blackbox_exporter's getTimeout computes it: Prometheus's timeout
 * (or `defaultSeconds` when the request has no header) minus `offsetSeconds`, capped by the source's
 * own `timeout` (0 = none), and never more than MAX_PROBE_SECONDS. An unreadable header counts as no
 * header.
 */
export function probeTimeoutSeconds(
  header: string | undefined,
  sourceTimeoutSeconds: number,
  offsetSeconds: number,
  defaultSeconds: number,
): number {
  const fromHeader = header === undefined || header.trim() === '' ? NaN : Number(header);
  const timeout = Number.isFinite(fromHeader) && fromHeader > 0 ? fromHeader : defaultSeconds;
  const max = timeout - offsetSeconds;
  const seconds = (sourceTimeoutSeconds > 0 && sourceTimeoutSeconds < max) || max < 0 ? sourceTimeoutSeconds : max;
  return Math.min(seconds, MAX_PROBE_SECONDS);
}

/** Told when a deadline it watches comes. */
export interface DeadlineWatcher {
  onDeadline(): void;
}

const REACHED = 'scrape deadline reached';

/**
 * One scrape's deadline, made once per scrape and handed to every source it reads: when it is (on
 * the monotonic clock), an abort signal for requests, and the shared work to stop when it comes.
 * One timer, however many requests and reads follow it.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly watchers = new Set<DeadlineWatcher>();
  private readonly timer: NodeJS.Timeout;
  private why: string | undefined;
  private resolveReached!: () => void;
  /** Resolves when the deadline comes (never, once disposed before it). */
  readonly reached = new Promise<void>((resolve) => (this.resolveReached = resolve));

  /** `at` is performance.now() milliseconds. */
  constructor(readonly at: number) {
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now())).unref();
  }

  static in(ms: number): Deadline {
    return new Deadline(performance.now() + ms);
  }

  /** Aborted when the deadline comes: for requests that must not outlive it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  watch(watcher: DeadlineWatcher): void {
    if (this.signal.aborted) watcher.onDeadline();
    else this.watchers.add(watcher);
  }

  unwatch(watcher: DeadlineWatcher): void {
    this.watchers.delete(watcher);
  }

  /** `promise`'s value if it settles by the deadline, else undefined; the work itself goes on. */
  valueBy<T>(promise: Promise<T>): Promise<T | undefined> {
    return Promise.race([promise, this.reached.then(() => undefined)]);
  }

  /** The scrape is over and nothing it started still follows this deadline: free the timer. */
  dispose(): void {
    clearTimeout(this.timer);
  }

  /** Why the deadline was cut short, if it was. */
  get cutFor(): string | undefined {
    return this.why;
  }

  /** The scrape was abandoned (its client went away, or the exporter shuts down): the deadline is now. */
  cut(why: string): void {
    clearTimeout(this.timer);
    if (this.signal.aborted) return;
    this.why = why;
    this.fire(why);
  }

  /** Passed, or cut: nobody waits under it any more. */
  get over(): boolean {
    return this.signal.aborted || this.at <= performance.now();
  }

  private fire(why = REACHED): void {
    this.controller.abort(new Error(why));
    for (const w of this.watchers) w.onDeadline();
    this.watchers.clear();
    this.resolveReached();
  }
}

/** A scrape waiting for shared work: its deadline, and what the work needs of it (e.g. its way to the network). */
interface Waiter<T> {
  readonly deadline: Deadline;
  readonly value: T;
}

/**
 * Work shared by several scrapes (one read of a register, one read of a fleet), which goes on until the
 * latest of their deadlines and stops there: a later scrape with more time is never cut short by an
 * earlier one's. A scrape whose deadline is cut (its client went away) stops waiting, and the work
 * goes on for the latest of the others; once none waits, it stops. Its requests go out under `signal`.
 */
export class SharedDeadline<T = undefined> implements DeadlineWatcher {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private current: Waiter<T>;
  /** Every scrape waiting, once a second one joined (most work is never shared). */
  private joined: Waiter<T>[] | undefined;

  constructor(deadline: Deadline, value?: T) {
    this.current = { deadline, value: value as T };
    deadline.watch(this);
  }

  get deadline(): Deadline {
    return this.current.deadline;
  }

  /** What the scrape the work goes on for brought: one whose scrape is still waiting. */
  get value(): T {
    return this.current.value;
  }

  /** Another scrape joined: go on until its deadline if that is later. */
  extendTo(deadline: Deadline, value?: T): void {
    if (deadline.signal.aborted) return;
    const waiter = { deadline, value: value as T };
    (this.joined ??= [this.current]).push(waiter);
    if (deadline.at > this.current.deadline.at) this.follow(waiter);
  }

  /** The deadline followed came, or was cut: go on for the latest scrape still waiting, if any. */
  onDeadline(): void {
    this.joined = this.joined?.filter((w) => !w.deadline.over);
    const next = this.joined?.reduce<Waiter<T> | undefined>((latest, w) => (latest && latest.deadline.at >= w.deadline.at ? latest : w), undefined);
    if (next) this.follow(next);
    else this.controller.abort(new Error(REACHED));
  }

  /** The work is over: no deadline needs to stop it any more. */
  end(): void {
    this.current.deadline.unwatch(this);
    this.joined = undefined;
  }

  private follow(waiter: Waiter<T>): void {
    this.current.deadline.unwatch(this);
    this.current = waiter;
    waiter.deadline.watch(this);
  }
}
