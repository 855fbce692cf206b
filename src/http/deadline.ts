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
  settle<T>(promise: Promise<T>): Promise<T | undefined> {
    return Promise.race([promise, this.reached.then(() => undefined)]);
  }

  /** The scrape is over and nothing it started still follows this deadline: free the timer. */
  dispose(): void {
    clearTimeout(this.timer);
  }

  private fire(): void {
    this.controller.abort(new Error(REACHED));
    for (const w of this.watchers) w.onDeadline();
    this.watchers.clear();
    this.resolveReached();
  }
}

/**
 * Work shared by several scrapes (one read of a till, one read of a fleet), which goes on until the
 * latest of their deadlines and stops there: a later scrape with more time is never cut short by an
 * earlier one's. Its requests go out under `signal`.
 */
export class SharedDeadline implements DeadlineWatcher {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  constructor(private current: Deadline) {
    current.watch(this);
  }

  get deadline(): Deadline {
    return this.current;
  }

  /** Another scrape joined: go on until its deadline if that is later. */
  extendTo(deadline: Deadline): void {
    if (deadline.at <= this.current.at) return;
    this.current.unwatch(this);
    this.current = deadline;
    deadline.watch(this);
  }

  onDeadline(): void {
    this.controller.abort(new Error(REACHED));
  }

  /** The work is over: no deadline needs to stop it any more. */
  end(): void {
    this.current.unwatch(this);
  }
}
