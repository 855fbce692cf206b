/*
 * BusinessKassa's `timestamp` is `dd.MM.yyyy HH:mm` with no zone: read in the wrong `timezone` every
 * register's data looks whole hours old (or in the future), and the stale alerts would page the
 * whole fleet at once. These checks tell a wrong zone from data that is really old.
 */

/** A register's `kkt_status_timestamp_seconds`, as read. */
export interface RegisterTime {
  kkt: string;
  seconds: number;
}

/** What the source reports about its vendor's times. */
export interface ClockSkew {
  /** kkt_source_clock_offset_seconds: the whole hours the times run ahead (+) or behind (-); 0 when they look right. */
  offsetSeconds: number;
  /** Registers whose time is more than AHEAD_TOLERANCE in the future, by kkt. */
  ahead: string[];
  /** The landing page's line for the source, when there is something to say. */
  warning?: string;
}

/** A time this far in the future cannot be a reading: the clock or the zone is wrong. */
const AHEAD_TOLERANCE_SECONDS = 10 * 60;
/** How close to a whole number of hours a time must be to count towards an offset. */
const WHOLE_HOUR_TOLERANCE_SECONDS = 10 * 60;
const HOUR = 3600;
const LISTED = 3;

/**
 * The whole-hour offset that most of the fleet's times agree on: more than half of the registers
 * that report a time are within 10 min of the same non-zero number of hours ahead or behind. An
 * offset behind counts only while `timesMoving`: a fleet whose data stopped at one moment also
 * looks the same hours old for a while, and that is stale data, not a zone.
 */
function fleetOffset(times: readonly RegisterTime[], nowSeconds: number, timesMoving: boolean): number {
  const votes = new Map<number, number>();
  for (const { seconds } of times) {
    const skew = seconds - nowSeconds;
    const hours = Math.round(skew / HOUR);
    if (hours === 0 || Math.abs(skew - hours * HOUR) > WHOLE_HOUR_TOLERANCE_SECONDS) continue;
    if (hours < 0 && !timesMoving) continue;
    votes.set(hours, (votes.get(hours) ?? 0) + 1);
  }
  const [hours, count] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [0, 0];
  return count * 2 > times.length ? hours * HOUR : 0;
}

function spanText(seconds: number): string {
  return seconds < 90 * 60 ? `${Math.round(seconds / 60)} min` : `${(seconds / HOUR).toFixed(1).replace(/\.0$/, '')} h`;
}

function aheadWarning(times: readonly RegisterTime[], ahead: readonly RegisterTime[], nowSeconds: number): string {
  const most = spanText(ahead.reduce((m, t) => Math.max(m, t.seconds - nowSeconds), 0));
  if (ahead.length === 1) return `times of register ${ahead[0]?.kkt} read ${most} ahead: check its clock`;
  const names = ahead.slice(0, LISTED).map((t) => t.kkt).join(', ') + (ahead.length > LISTED ? ', ...' : '');
  return `times of ${ahead.length} of ${times.length} registers (${names}) read up to ${most} ahead: check their clocks or \`timezone\``;
}

/**
 * The fleet's times (one GET /frs) against the exporter's clock at `nowSeconds`. `timesMoving`: the
 * fleet's newest time has advanced lately (see ClockWatch), so a fleet hours behind is a zone, not a
 * stop.
 */
export function clockSkew(times: readonly RegisterTime[], nowSeconds: number, timesMoving: boolean): ClockSkew {
  const offsetSeconds = fleetOffset(times, nowSeconds, timesMoving);
  const aheadTimes = times.filter((t) => t.seconds - nowSeconds > AHEAD_TOLERANCE_SECONDS);
  const skew: ClockSkew = { offsetSeconds, ahead: aheadTimes.map((t) => t.kkt) };
  if (offsetSeconds !== 0) skew.warning = `times read ${Math.abs(offsetSeconds) / HOUR} h ${offsetSeconds > 0 ? 'ahead' : 'behind'}: check \`timezone\``;
  else if (aheadTimes.length > 0) skew.warning = aheadWarning(times, aheadTimes, nowSeconds);
  return skew;
}

/**
 * How long the fleet's newest time may stand still and a fleet hours behind still count as a zone.
 * Less than 50 min: a fleet whose data stopped reaches the first whole hour's window (1 h - 10 min)
 * only then, so it is never taken for a zone.
 */
export const MOVING_WINDOW_SECONDS = 30 * 60;

/**
 * One source's view of its vendor's clock across fleet reads: whether the times move, and the last
 * skew, so that a change is logged once and not on every scrape.
 */
export class ClockWatch {
  private newest: number | undefined;
  private movedAt: number | undefined;
  private last: ClockSkew = { offsetSeconds: 0, ahead: [] };

  /** The skew of the last fleet read (offset 0 before the first). */
  get current(): ClockSkew {
    return this.last;
  }

  /**
   * Checks one fleet read; `changed` when its offset differs from the last read's, or, with no
   * offset, which registers read ahead.
   */
  check(times: readonly RegisterTime[], nowSeconds: number): { skew: ClockSkew; changed: boolean } {
    if (times.length > 0) {
      const newest = times.reduce((m, t) => Math.max(m, t.seconds), -Infinity);
      if (this.newest !== undefined && newest > this.newest) this.movedAt = nowSeconds;
      this.newest = newest;
    }
    const moving = this.movedAt !== undefined && nowSeconds - this.movedAt <= MOVING_WINDOW_SECONDS;
    const skew = clockSkew(times, nowSeconds, moving);
    const changed = skew.offsetSeconds !== this.last.offsetSeconds || (skew.offsetSeconds === 0 && skew.ahead.join() !== this.last.ahead.join());
    this.last = skew;
    return { skew, changed };
  }
}
