import { errorMessage } from '../../log.js';
import type { Sample } from '../../readings/reading.js';
import { VendorError } from '../vendor-json.js';

export interface CachedXReport {
  shiftId: number;
  /** Epoch ms of the attempt; a failed attempt waits out the interval too (it may have made a document). */
  takenAt: number;
  samples?: Sample[];
  error?: string;
  /**
   * The service refused to make it (HTTP 403): the document's answer when the caller is not the
   * cashier who opened the shift, as a monitoring login usually is not. Expected, not a fault.
   */
  refused?: boolean;
}

/**
 * X-reports by register, for the whole process (across scrapes, probes and reloads): a new one is
 * taken only when the shift changed or `minIntervalMs` has passed, and concurrent scrapes share the
 * one being taken.
 */
export class XReportCache {
  private readonly entries = new Map<string, CachedXReport>();
  private readonly taking = new Map<string, Promise<CachedXReport>>();
  private readonly reported = new WeakSet<CachedXReport>();
  /** The shift whose refusal was last reported, by register. */
  private readonly refusalReported = new Map<string, number>();

  /** The cached X-report of `shiftId`, after taking a new one if it is due. */
  async get(key: string, shiftId: number, minIntervalMs: number, take: () => Promise<Sample[]>): Promise<CachedXReport> {
    const cached = this.entries.get(key);
    if (cached && cached.shiftId === shiftId && Date.now() - cached.takenAt < minIntervalMs) return cached;
    let pending = this.taking.get(key);
    if (!pending) {
      const takenAt = Date.now();
      pending = take()
        .then((samples): CachedXReport => ({ shiftId, takenAt, samples }))
        .catch((err: unknown): CachedXReport => ({ shiftId, takenAt, error: errorMessage(err), refused: err instanceof VendorError && err.status === 403 }))
        .then((entry) => {
          this.entries.set(key, entry);
          this.taking.delete(key);
          return entry;
        });
      this.taking.set(key, pending);
    }
    return pending;
  }

  /**
   * Whether a failed X-report is news worth a warning: each failed attempt once (there is at most one
   * per interval), and a refusal once per shift, since it will be refused for as long as it is open.
   */
  isNews(key: string, entry: CachedXReport): boolean {
    if (entry.refused) {
      if (this.refusalReported.get(key) === entry.shiftId) return false;
      this.refusalReported.set(key, entry.shiftId);
      return true;
    }
    if (this.reported.has(entry)) return false;
    this.reported.add(entry);
    return true;
  }

  /** Forgets a register's X-report: its shift is closed, so the totals belong to no open shift. */
  drop(key: string): void {
    this.entries.delete(key);
    this.refusalReported.delete(key);
  }
}
