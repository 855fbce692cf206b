import { errorMessage } from '../../log.js';
import type { Sample } from '../../readings/reading.js';
import { k24Refusal } from './parse.js';

export interface CachedXReport {
  shiftId: number;
  /** Epoch ms of the attempt; a failed attempt waits out the interval too (it may have made a document). */
  takenAt: number;
  samples?: Sample[];
  error?: string;
  /**
   * The service refused it with 403 "Указан неверный идентификатор смены": the document's answer
   * when the caller is not the cashier who opened the shift, as a monitoring login usually is not.
   * Expected, not a fault. Any other 403 is a failure.
   */
  refused?: boolean;
  /** The service answered 403 "касса заблокирована": the register is blocked. */
  blocked?: boolean;
}

/** A failed attempt, with what its answer says (a refusal, a blocked register, or a plain failure). */
function failedAttempt(shiftId: number, takenAt: number, err: unknown): CachedXReport {
  const entry: CachedXReport = { shiftId, takenAt, error: errorMessage(err) };
  const refusal = k24Refusal(err);
  if (refusal === 'wrong_shift') entry.refused = true;
  if (refusal === 'blocked') entry.blocked = true;
  return entry;
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
        .catch((err: unknown) => failedAttempt(shiftId, takenAt, err))
        .then((entry) => {
          this.entries.set(key, entry);
          this.taking.delete(key);
          return entry;
        });
      this.taking.set(key, pending);
    }
    return pending;
  }

  /** The cached X-report of `shiftId`, without taking one (none when the cached one is of another shift). */
  peek(key: string, shiftId: number): CachedXReport | undefined {
    const cached = this.entries.get(key);
    return cached?.shiftId === shiftId ? cached : undefined;
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
