import v8 from 'node:v8';

/**
 * Below what one scrape of a large fleet promotes to V8's old space, so each such scrape is followed
 * by a collection; small fleets never reach it (figures in docs/benchmark.md).
 */
const DEFAULT_GROWTH_BYTES = 64 * 1024 * 1024;
/** A scrape's answer is still being written just after it is produced. */
const SETTLE_MS = 100;
/** While scrapes run, the event loop is looked at this often for a quiet moment. */
const CHECK_MS = 50;
/** Quiet: the event loop was busy for less than this share of the last check period. */
const QUIET_SHARE = 0.1;

export interface IdleGcOptions {
  /** Collect only when the heap grew by this much since the last collection. */
  growthBytes?: number;
  heapUsed?: () => number;
  gc?: () => void;
  /** The share of time (0..1) the event loop was busy since the last call. */
  busyShare?: () => number;
}

/** V8's full collection: there when Node was started with --expose-gc, as the exporter's command is. */
function exposedGc(): (() => void) | undefined {
  return typeof globalThis.gc === 'function' ? globalThis.gc : undefined;
}

function eventLoopBusyShare(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const share = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return share;
  };
}

/**
 * Collects garbage when the event loop is quiet and the heap has grown a lot since the last
 * collection. A large fleet's requests are in flight across V8's young-generation collections, so
 * most of a scrape's garbage is promoted, and V8 lets the old space grow to several times the live
 * heap before it looks. A scrape of rate-limited registers is quiet most of each second (its
 * requests wait for the register's next slot), so a full collection fits there, between scrapes,
 * and between bursts of probes, and bounds the peak RSS (figures in docs/benchmark.md). Without
 * --expose-gc it does nothing.
 */
export class IdleGc {
  private running = 0;
  private settleTimer: NodeJS.Timeout | undefined;
  private watch: NodeJS.Timeout | undefined;
  private readonly growthBytes: number;
  private readonly heapUsed: () => number;
  private readonly gc: (() => void) | undefined;
  private readonly busyShare: () => number;
  private baseline: number;

  constructor(opts: IdleGcOptions = {}) {
    this.growthBytes = opts.growthBytes ?? DEFAULT_GROWTH_BYTES;
    this.heapUsed = opts.heapUsed ?? (() => v8.getHeapStatistics().used_heap_size);
    this.gc = opts.gc ?? exposedGc();
    this.busyShare = opts.busyShare ?? eventLoopBusyShare();
    this.baseline = this.heapUsed();
  }

  /** Runs a scrape or probe, watching for quiet moments while any runs. */
  async around<T>(work: () => Promise<T>): Promise<T> {
    if (!this.gc) return work();
    if (this.running++ === 0) this.startWatching();
    clearTimeout(this.settleTimer);
    try {
      return await work();
    } finally {
      if (--this.running === 0) {
        clearInterval(this.watch);
        this.settleTimer = setTimeout(() => this.collectIfGrown(), SETTLE_MS).unref();
      }
    }
  }

  private startWatching(): void {
    this.busyShare(); // measure from now on, not over the idle time before
    this.watch = setInterval(() => {
      if (this.busyShare() < QUIET_SHARE) this.collectIfGrown();
    }, CHECK_MS).unref();
  }

  private collectIfGrown(): void {
    if (!this.gc || this.heapUsed() - this.baseline < this.growthBytes) return;
    this.gc();
    this.baseline = this.heapUsed();
  }
}
