import type { z } from 'zod';
import type { Logger } from '../log.js';
import { describeZodError } from './fields.js';
import { type RegisterSummary } from './source.js';
import { kktProblem, MAX_LABEL_VALUE_CHARS, unreadReading, type RegisterReading } from '../readings/reading.js';
import { TimeParseError } from './time.js';

/** A vendor's register record as a reading, or why it could not be one (with its id when known). */
export type RecordResult = { ok: true; reading: RegisterReading } | { ok: false; kkt?: string; error: string };

/**
 * Validates one register record with `schema` and maps it with `map`. A record that fails either
 * step is malformed: reported alone, so the rest of the fleet is still read.
 */
export function parseRecord<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  idField: string,
  map: (data: z.infer<S>) => RegisterReading,
): RecordResult {
  const id = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[idField] : undefined;
  const kkt = typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
  // An id too long to be one is no identity: the record is skipped, never reported under it.
  const idProblem = kkt === undefined ? undefined : kktProblem(kkt, idField);
  if (idProblem !== undefined) return { ok: false, error: `malformed register record: ${idProblem}` };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, kkt, error: `malformed register record: ${describeZodError(parsed.error)}` };
  try {
    return { ok: true, reading: map(parsed.data) };
  } catch (err) {
    if (err instanceof TimeParseError) return { ok: false, kkt, error: `malformed register record: ${err.message}` };
    throw err;
  }
}

/** The reading of a record, or a down reading / nothing for a malformed one, which is logged. */
export function recordReading(result: RecordResult, endpoint: string, log: Logger): RegisterReading | undefined {
  if (result.ok) return result.reading;
  log.warn('register record skipped', { kkt: result.kkt, err: result.error });
  return result.kkt ? unreadReading(result.kkt, endpoint, result.error) : undefined;
}

/**
 * Logs once, for a whole result, the registers whose identity values were truncated (readingOf):
 * one line per scrape and source, never one per register.
 */
export function logTruncatedLabels(registers: readonly RegisterReading[], log: Logger): void {
  let count = 0;
  const labels = new Set<string>();
  for (const r of registers) {
    if (!r.truncated) continue;
    count++;
    for (const name of r.truncated) labels.add(name);
  }
  if (count > 0) log.warn('label values too long: truncated', { registers: count, labels: [...labels].join(','), max_chars: MAX_LABEL_VALUE_CHARS });
}

/** Why a fleet read is incomplete when some of its records were malformed (each is logged). */
export const MALFORMED_RECORDS = 'some register records were malformed (see the log)';

/** A vendor stated or listed more registers than the source may read (`max_registers`), or an impossible number. */
export class RegisterCountError extends Error {
  override name = 'RegisterCountError';
}

/** Throws a RegisterCountError when a vendor's `count` of registers passes the source's `max_registers`. */
export function checkRegisterCount(count: number, maxRegisters: number, what: string): void {
  if (count > maxRegisters) throw new RegisterCountError(`${what} ${count} registers, more than max_registers (${maxRegisters})`);
}

const MISSING_FROM_LIST = 'missing from an incomplete register list';

/**
 * The registers a cloud source's last complete list named, each with what the landing page shows
 * beside it. It outlives a config reload: a source reloaded (a password rotated, say) while its
 * vendor fails still reports them down instead of forgetting them.
 */
export class KnownRegisters {
  detailByKkt = new Map<string, string>();
}

/** Each cloud source's known registers, by source name, for as long as the config keeps the source. */
export class KnownRegistersBySource {
  private readonly bySource = new Map<string, KnownRegisters>();

  of(source: string): KnownRegisters {
    let known = this.bySource.get(source);
    if (!known) this.bySource.set(source, (known = new KnownRegisters()));
    return known;
  }

  /** Forgets the sources a reload removed. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.bySource.keys()) if (!names.has(name)) this.bySource.delete(name);
  }
}

/**
 * The registers a fleet source knows from its last complete list. A scrape's readings are counted
 * once per register; registers known but missing from an incomplete scrape are reported down.
 */
export class FleetRoster {
  constructor(
    private readonly detailOf: (r: RegisterReading) => string,
    private readonly known = new KnownRegisters(),
  ) {}

  summaries(): RegisterSummary[] {
    return [...this.known.detailByKkt].map(([kkt, detail]) => ({ kkt, detail }));
  }

  detail(kkt: string): string | undefined {
    return this.known.detailByKkt.get(kkt);
  }

  /** Every known register, down: the list itself could not be read, for `error`. */
  unread(endpoint: string, error: string): RegisterReading[] {
    return [...this.known.detailByKkt.keys()].map((kkt) => unreadReading(kkt, endpoint, error));
  }

  /**
   * This scrape's readings, each register once; when the list was read completely it becomes the
   * known list, else every known register it misses is added as down.
   */
  account(readings: Iterable<RegisterReading | undefined>, complete: boolean, endpoint: string): RegisterReading[] {
    const byKkt = new Map<string, RegisterReading>();
    // A register can be listed twice (e.g. a list that shifts while it is paged): count it once.
    for (const r of readings) if (r && !byKkt.has(r.kkt)) byKkt.set(r.kkt, r);
    if (complete) this.known.detailByKkt = new Map([...byKkt.values()].filter((r) => r.up).map((r) => [r.kkt, this.detailOf(r)]));
    else for (const kkt of this.known.detailByKkt.keys()) if (!byKkt.has(kkt)) byKkt.set(kkt, unreadReading(kkt, endpoint, MISSING_FROM_LIST));
    return [...byKkt.values()];
  }
}
