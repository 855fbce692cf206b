import v8 from 'node:v8';
import vm from 'node:vm';

/** Garbage one scrape of a 5,000-register fleet leaves: about 150 MB, promoted to V8's old space. */
const DEFAULT_GROWTH_BYTES = 64 * 1024 * 1024;
/** A scrape's answer is still being written just after it is produced. */
const SETTLE_MS = 100;

export interface IdleGcOptions {
  /** Collect only when the heap grew by this much since the last collection. */
  growthBytes?: number;
  heapUsed?: () => number;
  gc?: () => void;
}

/** V8's full collection, which Node only exposes behind --expose-gc. */
function exposedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Collects garbage when no scrape or probe is running and the heap has grown a lot since the last
 * collection. A large fleet's requests are in flight across V8's young-generation collections, so
 * most of a scrape's garbage is promoted, and V8 lets the old space grow to about four times the
 * live heap before it looks: 400-550 MB peak for 5,000 registers with 70 MB live. One full
 * collection when idle (about 60 ms, between scrapes, never during one) keeps it near the live
 * heap plus one scrape's garbage.
 */
export class IdleGc {
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly growthBytes: number;
  private readonly heapUsed: () => number;
  private readonly gc: () => void;
  private baseline: number;
  collections = 0;

  constructor(opts: IdleGcOptions = {}) {
    this.growthBytes = opts.growthBytes ?? DEFAULT_GROWTH_BYTES;
    this.heapUsed = opts.heapUsed ?? (() => process.memoryUsage().heapUsed);
    this.gc = opts.gc ?? exposedGc();
    this.baseline = this.heapUsed();
  }

  /** Runs a scrape or probe; the collection waits until none is running. */
  async around<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    clearTimeout(this.timer);
    try {
      return await work();
    } finally {
      if (--this.running === 0) this.timer = setTimeout(() => this.collectIfGrown(), SETTLE_MS).unref();
    }
  }

  private collectIfGrown(): void {
    if (this.running > 0 || this.heapUsed() - this.baseline < this.growthBytes) return;
    this.gc();
    this.collections++;
    this.baseline = this.heapUsed();
  }
}
