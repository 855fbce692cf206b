import { errorMessage } from '../../log.js';
import type { Sample } from '../source.js';

export interface CachedXReport {
  shiftId: number;
  /** Epoch ms of the attempt; a failed attempt waits out the interval too (it may have made a document). */
  takenAt: number;
  samples?: Sample[];
  error?: string;
}

/**
 * X-reports by register, for the whole process (across scrapes, probes and reloads): a new one is
 * taken only when the shift changed or `minIntervalMs` has passed, and concurrent scrapes share the
 * one being taken.
 */
export class XReportCache {
  private readonly entries = new Map<string, CachedXReport>();
  private readonly taking = new Map<string, Promise<CachedXReport>>();

  /** The cached X-report of `shiftId`, after taking a new one if it is due. */
  async get(key: string, shiftId: number, minIntervalMs: number, take: () => Promise<Sample[]>): Promise<CachedXReport> {
    const cached = this.entries.get(key);
    if (cached && cached.shiftId === shiftId && Date.now() - cached.takenAt < minIntervalMs) return cached;
    let pending = this.taking.get(key);
    if (!pending) {
      const takenAt = Date.now();
      pending = take()
        .then((samples): CachedXReport => ({ shiftId, takenAt, samples }))
        .catch((err: unknown): CachedXReport => ({ shiftId, takenAt, error: errorMessage(err) }))
        .then((entry) => {
          this.entries.set(key, entry);
          this.taking.delete(key);
          return entry;
        });
      this.taking.set(key, pending);
    }
    return pending;
  }

  /** Forgets a register's X-report: its shift is closed, so the totals belong to no open shift. */
  drop(key: string): void {
    this.entries.delete(key);
  }
}
