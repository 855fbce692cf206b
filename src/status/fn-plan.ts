import type { RegisterMetric } from '../readings/catalog.js';
import type { RegisterReading } from '../readings/reading.js';

/*
 * The FN replacement plan: which fiscal storages expire or fill within N days, and which were
 * swapped without re-registration. Pure: FleetStatus keeps each register's FnTrack beside its last
 * reading (so it is bounded by the fleet and outlives a reload like the other status).
 */

/** Usage points kept per register: enough for a fill rate, bounded whatever the uptime. */
export const MAX_USAGE_POINTS = 16;
export const DEFAULT_PLAN_DAYS = 60;
export const MAX_PLAN_DAYS = 3650;
const DAY = 86_400;
/** What the vendor's flags say is left (kkt_fn_warning_flag, docs/alerts.md). */
const FLAG_DAYS: Record<string, number> = { urgent_replacement: 3, resource_exhausted: 30, memory_full: 0 };

export interface FnSwap {
  from: string;
  to: string;
}

/** What a register's readings so far say about its FN: identity, recent usage, a swap seen. */
export interface FnTrack {
  serial?: string;
  rnm?: string;
  fiscalizedAt?: number;
  /** [unix seconds, usage percent], oldest first, at most MAX_USAGE_POINTS, of the current FN only. */
  points: Array<[number, number]>;
  swap?: FnSwap;
}

const valueOf = (reading: RegisterReading, m: RegisterMetric): number | undefined =>
  reading.samples.find((s) => s.metric === m && !s.labels)?.value;

/** The track after `reading` taken at `at` (unix seconds). */
export function nextFnTrack(was: FnTrack | undefined, reading: RegisterReading, at: number): FnTrack | undefined {
  if (!reading.up) return was;
  // A read that missed a field (an incomplete read) keeps what the last one said.
  const serial = reading.info.fn_serial ?? was?.serial;
  const rnm = reading.info.rnm ?? was?.rnm;
  const fiscalizedAt = valueOf(reading, 'kkt_fn_fiscalization_timestamp_seconds') ?? was?.fiscalizedAt;
  const usage = valueOf(reading, 'kkt_fn_usage_percent');
  // Nothing new (a vendor that reports no FN, as UKM): no new object on every read of every till.
  if (usage === undefined && serial === was?.serial && rnm === was?.rnm && fiscalizedAt === was?.fiscalizedAt) return was;
  const sameRegistration = was !== undefined && rnm !== undefined && rnm === was.rnm && fiscalizedAt === was.fiscalizedAt;
  const newFn = was?.serial !== undefined && serial !== undefined && serial !== was.serial;
  let swap: FnSwap | undefined;
  if (newFn && sameRegistration) swap = { from: was.serial!, to: serial };
  else if (!newFn && sameRegistration) swap = was.swap;
  const points = newFn ? [] : [...(was?.points ?? [])];
  if (usage !== undefined && points.at(-1)?.[0] !== at) points.push([at, usage]);
  if (points.length > MAX_USAGE_POINTS) points.splice(0, points.length - MAX_USAGE_POINTS);
  const track: FnTrack = { points };
  if (serial !== undefined) track.serial = serial;
  if (rnm !== undefined) track.rnm = rnm;
  if (fiscalizedAt !== undefined) track.fiscalizedAt = fiscalizedAt;
  if (swap) track.swap = swap;
  return track;
}

/** When the FN reaches 100 % at the least-squares rate of its points; undefined while the rate is not known (fewer than two points, or not rising). */
export function fillTimeOf(points: ReadonlyArray<[number, number]>): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mt = points.reduce((s, [t]) => s + t, 0) / n;
  const mu = points.reduce((s, [, u]) => s + u, 0) / n;
  const sxx = points.reduce((s, [t]) => s + (t - mt) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((s, [t, u]) => s + (t - mt) * (u - mu), 0) / sxx;
  if (!(slope > 0)) return undefined;
  const [lastT, lastU] = points.at(-1)!;
  return lastT + Math.max(0, 100 - lastU) / slope;
}

export interface PlanRegister {
  source: string;
  kkt: string;
  store?: string;
  reading: RegisterReading;
  fn?: FnTrack;
}

export interface PlanRow {
  source: string;
  kkt: string;
  store: string;
  fnSerial: string;
  /** Unix seconds; undefined for a swap with no date known. */
  date?: number;
  reason: string;
}

export interface FnPlan {
  rows: PlanRow[];
  /** Registers that report FN usage but whose fill rate is not known yet. */
  rateUnknown: number;
}

/** Every FN that expires or fills within `days` of `now` (unix seconds), and every swap, grouped by store, soonest first. */
export function fnPlan(registers: readonly PlanRegister[], now: number, days = DEFAULT_PLAN_DAYS): FnPlan {
  const horizon = now + days * DAY;
  const rows: PlanRow[] = [];
  let rateUnknown = 0;
  for (const r of registers) {
    const base = { source: r.source, kkt: r.kkt, store: r.store ?? '', fnSerial: r.fn?.serial ?? r.reading.info.fn_serial ?? '' };
    const expiry = valueOf(r.reading, 'kkt_fn_expiry_timestamp_seconds');
    const due: Array<[number, string]> = [];
    if (expiry !== undefined) due.push([expiry, 'expires']);
    const fill = r.fn && fillTimeOf(r.fn.points);
    if (fill !== undefined) due.push([fill, 'fills at its rate']);
    else if (r.reading.up && valueOf(r.reading, 'kkt_fn_usage_percent') !== undefined) rateUnknown++;
    for (const s of r.reading.samples) {
      const flagDays = s.metric === 'kkt_fn_warning_flag' && s.value === 1 ? FLAG_DAYS[s.labels?.flag ?? ''] : undefined;
      if (flagDays !== undefined) due.push([now + flagDays * DAY, `vendor flag ${s.labels!.flag} says ${flagDays} days`]);
    }
    const soonest = due.filter(([at]) => at <= horizon).sort((a, b) => a[0] - b[0])[0];
    if (soonest) rows.push({ ...base, date: soonest[0], reason: soonest[1] });
    const swap = r.fn?.swap;
    if (swap) {
      const row: PlanRow = { ...base, reason: `FN swapped without re-registration: serial ${swap.from} -> ${swap.to}, same RNM and fiscalisation date` };
      if (expiry !== undefined) row.date = expiry;
      rows.push(row);
    }
  }
  rows.sort((a, b) => a.store.localeCompare(b.store) || (a.date ?? Infinity) - (b.date ?? Infinity) || a.kkt.localeCompare(b.kkt));
  return { rows, rateUnknown };
}

/** `days` from a query parameter: default when absent, an error line when not a whole number in 1..MAX_PLAN_DAYS. */
export function planDays(raw: unknown): { days: number } | { error: string } {
  if (raw === undefined) return { days: DEFAULT_PLAN_DAYS };
  const days = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (days >= 1 && days <= MAX_PLAN_DAYS) return { days };
  return { error: `days must be a whole number from 1 to ${MAX_PLAN_DAYS}` };
}

/** A CSV cell per RFC 4180, with a leading ' before = + - @ so a spreadsheet never runs it as a formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const dateText = (at: number | undefined): string => (at === undefined ? '' : new Date(at * 1000).toISOString().slice(0, 10));

/** The plan as CSV: a header row, then one line per row, CRLF-ended. */
export function planCsv(plan: FnPlan): string {
  const lines = [['store', 'source', 'kkt', 'fn_serial', 'date', 'reason'], ...plan.rows.map((r) => [r.store, r.source, r.kkt, r.fnSerial, dateText(r.date), r.reason])];
  return lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
