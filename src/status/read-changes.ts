import { formatDuration } from '../config/duration.js';
import type { Logger } from '../log.js';
import type { RegisterReading, SourceReading } from '../readings/reading.js';
import { readStateOf, type StateChange } from './fleet-status.js';
import { outsideTradingHours } from './problems.js';

/**
 * Changes of state written to the process log per read of a source, one line each; the rest of a
 * fleet changing at once (a cloud list failed, a network gone) are counted in one line, their own
 * lines kept in the read's history only (`/logs`, within its MAX_LOGS_PER_PROBE).
 */
export const MAX_CHANGES_LOGGED_PER_READ = 100;
/** Reason classes named in a read's summary line, the most frequent first; the rest are counted as "other". */
export const MAX_REASONS_SUMMARISED = 5;

/** An error's short class, for counting: the transport's words for the common failures, else its first clause. */
const REASON_CLASSES: ReadonlyArray<readonly [RegExp, string]> = [
  [/cannot read the register list|register list was still being read/, 'register list not read'],
  [/scrape deadline/, 'scrape deadline'],
  [/connection refused/, 'connection refused'],
  [/connection reset/, 'connection reset'],
  [/timed out|request aborted/, 'timeout'],
  [/cannot resolve host/, 'host not resolved'],
  [/register not found/, 'not found'],
  [/blocked/, 'blocked'],
  [/malformed|not a UKM answer|not a number|not a count|not a date-time/, 'malformed answer'],
];
const HTTP_STATUS = /HTTP (?:status )?(\d{3})/;
const MAX_REASON_CHARS = 40;

export function reasonClass(error: string | undefined): string {
  if (error === undefined) return 'no answer';
  for (const [pattern, name] of REASON_CLASSES) if (pattern.test(error)) return name;
  const status = HTTP_STATUS.exec(error);
  if (status) return `HTTP ${status[1]}`;
  const clause = error.split(/[:;]/, 1)[0]!.trim();
  return clause.length > MAX_REASON_CHARS ? `${clause.slice(0, MAX_REASON_CHARS - 1)}…` : clause;
}

/**
 * What the process log says about a read: each register's change of state (status.record), and,
 * for a read of the whole source, one line counting the registers not read. The per-register
 * detail of every read is the sources' (Logger.detail), kept in the read's history.
 */
export function logReadChanges(result: SourceReading, changes: readonly StateChange[], wholeSource: boolean, log: Logger): void {
  const detail = log.detail();
  let unlogged: Map<string, number> | undefined;
  changes.forEach((change, i) => {
    const logged = i < MAX_CHANGES_LOGGED_PER_READ;
    const said = logChange(change, logged ? log : detail);
    if (!logged) (unlogged ??= new Map()).set(said, (unlogged.get(said) ?? 0) + 1);
  });
  if (unlogged) log.warn(`${total(unlogged)} more registers changed state: ${reasons(unlogged)}; the landing page lists them`);
  if (wholeSource) logNotRead(result.registers, log);
}

/** What a register changed to, in the fold line: "150 unreachable, 3 reachable again". */
const CHANGED_TO = { unreachable: 'unreachable', incomplete: 'read incomplete', read: 'reachable again' } as const;

/**
 * Logs a change of state and says what it changed to. A register going down is a warning while its
 * store trades; after hours a till switched off is expected.
 */
function logChange({ reading, was }: StateChange, log: Logger): string {
  const kkt = reading.kkt;
  const state = readStateOf(reading);
  const down = outsideTradingHours(reading) ? log.info.bind(log) : log.warn.bind(log);
  if (state === 'unreachable') down('register unreachable', { kkt, err: reading.error ?? 'no answer' });
  else if (state === 'incomplete') down('register read incomplete', { kkt, err: reading.error });
  else if (was) {
    const lasted = formatDuration(Date.now() - was.since.getTime());
    if (readStateOf(was.reading) === 'unreachable') log.info('register reachable again', { kkt, down_for: lasted });
    else log.info('register read complete again', { kkt, incomplete_for: lasted });
  }
  return CHANGED_TO[state];
}

/** "12 of 300 registers not read: 11 connection refused, 1 timeout", and those read incomplete; nothing when all were read. */
function logNotRead(registers: readonly RegisterReading[], log: Logger): void {
  let unreachable: Map<string, number> | undefined;
  let incomplete: Map<string, number> | undefined;
  for (const r of registers) {
    const state = readStateOf(r);
    if (state === 'read') continue;
    const counts = state === 'unreachable' ? (unreachable ??= new Map()) : (incomplete ??= new Map());
    const reason = reasonClass(r.error);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  if (!unreachable && !incomplete) return;
  const of = `of ${registers.length} registers`;
  const parts: string[] = [];
  if (unreachable) parts.push(`${total(unreachable)} ${of} not read: ${reasons(unreachable)}`);
  if (incomplete) parts.push(`${total(incomplete)}${unreachable ? '' : ` ${of}`} read incomplete: ${reasons(incomplete)}`);
  log.info(parts.join('; '));
}

function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  return sum;
}

/** "11 connection refused, 1 timeout": the most frequent first, at most MAX_REASONS_SUMMARISED, then "2 other". */
function reasons(counts: ReadonlyMap<string, number>): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const named = sorted.slice(0, MAX_REASONS_SUMMARISED).map(([reason, n]) => `${n} ${reason}`);
  const other = total(new Map(sorted.slice(MAX_REASONS_SUMMARISED)));
  return [...named, ...(other > 0 ? [`${other} other`] : [])].join(', ');
}
