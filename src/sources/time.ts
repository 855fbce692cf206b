import { DateTime, IANAZone } from 'luxon';

/** A vendor value that is neither a time nor a documented "no time" marker. */
export class TimeParseError extends Error {
  constructor(text: string, field?: string) {
    super(`${field ? `${field}: ` : ''}not a date-time: ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)}`);
    this.name = 'TimeParseError';
  }
}

/** Values vendors send for "no such time": BusinessKassa's moment.js output and Go's zero time. */
const NO_TIME = new Set(['', 'invalid date', 'null', 'none', '-']);
const LOCAL_FORMATS = ['dd.MM.yyyy HH:mm:ss', 'dd.MM.yyyy HH:mm', 'dd.MM.yyyy', 'yyyy-MM-dd HH:mm:ss.SSS', 'yyyy-MM-dd HH:mm:ss', 'yyyy-MM-dd HH:mm'];
const ISO_WITH_OFFSET_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;
/** Times before this are placeholders (Go's 0001-01-01, .NET's MinValue), not events. */
const EARLIEST_REAL_SECONDS = Date.UTC(1990, 0, 1) / 1000;

/**
 * Unix seconds of a vendor date-time, read leniently: ISO 8601 with or without offset, the Russian
 * `dd.MM.yyyy HH:mm[:ss]` and `yyyy-MM-dd HH:mm:ss` forms, or epoch seconds/milliseconds. Times without
 * an offset are read in `zone`. Returns undefined for a documented "no time" marker.
 */
export function parseVendorTime(value: string | number, zone: string): number | undefined {
  if (typeof value === 'number') return epochSeconds(value, String(value));
  const text = value.trim();
  if (NO_TIME.has(text.toLowerCase())) return undefined;
  if (/^\d{9,13}(\.\d+)?$/.test(text)) return epochSeconds(Number(text), text);
  // Fast path for the common case, ISO 8601 with an offset (ATOL, Kassa24): no zone needed.
  if (ISO_WITH_OFFSET_RE.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return realTime(ms / 1000);
  }
  const local = localTimeSeconds(text, zone);
  if (local !== undefined) return realTime(local);
  let parsed = DateTime.fromISO(text.replace(' ', 'T'), { zone, setZone: true });
  for (const format of LOCAL_FORMATS) {
    if (parsed.isValid) break;
    parsed = DateTime.fromFormat(text, format, { zone });
  }
  if (!parsed.isValid) throw new TimeParseError(text);
  return realTime(parsed.toMillis() / 1000);
}

/** A time, or undefined for a placeholder before EARLIEST_REAL_SECONDS. */
function realTime(seconds: number): number | undefined {
  return seconds < EARLIEST_REAL_SECONDS ? undefined : seconds;
}

const ISO_LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const RU_LOCAL_RE = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The common offset-less forms (`yyyy-MM-dd HH:mm[:ss[.SSS]]`, `dd.MM.yyyy HH:mm[:ss]`) without
 * luxon's general parser, which cost more than the rest of a UKM answer. Anything else, including
 * an impossible date, is left to luxon (undefined).
 */
function localTimeSeconds(text: string, zone: string): number | undefined {
  let m = ISO_LOCAL_RE.exec(text);
  let parts: (string | undefined)[];
  if (m) parts = [m[1], m[2], m[3], m[4], m[5], m[6], m[7]];
  else if ((m = RU_LOCAL_RE.exec(text))) parts = [m[3], m[2], m[1], m[4], m[5], m[6], undefined];
  else return undefined;
  const [y, mo, d, h, mi, s] = parts.slice(0, 6).map((p) => Number(p ?? 0)) as [number, number, number, number, number, number];
  const ms = Number((parts[6] ?? '').padEnd(3, '0'));
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  const utc = wallToUtc(wall, zone);
  return Number.isFinite(utc) ? utc / 1000 : undefined;
}

/** Offsets change only at 15-minute UTC boundaries (every zone since 1970), so they are cached per quarter hour. */
const QUARTER_HOUR_MS = 15 * 60_000;
const offsetCache = new Map<string, number>();

function offsetMinutes(zone: string, utcMs: number): number {
  const key = `${zone} ${Math.floor(utcMs / QUARTER_HOUR_MS)}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    if (offsetCache.size >= 10_000) offsetCache.clear();
    offset = IANAZone.create(zone).offset(utcMs);
    offsetCache.set(key, offset);
  }
  return offset;
}

/** Local wall-clock time (as if UTC) to UTC, the way luxon resolves gaps and overlaps at DST changes. */
function wallToUtc(wall: number, zone: string): number {
  const o1 = offsetMinutes(zone, wall);
  let guess = wall - o1 * 60_000;
  const o2 = offsetMinutes(zone, guess);
  if (o1 === o2) return guess;
  guess -= (o2 - o1) * 60_000;
  const o3 = offsetMinutes(zone, guess);
  if (o2 === o3) return guess;
  return wall - Math.min(o2, o3) * 60_000;
}

function epochSeconds(n: number, text: string): number | undefined {
  if (!Number.isFinite(n) || n < 0) throw new TimeParseError(text);
  if (n === 0) return undefined;
  return realTime(n > 1e11 ? n / 1000 : n);
}

/** parseVendorTime for an optional record field; a bad value throws a TimeParseError naming the field. */
export function fieldSeconds(value: string | undefined, field: string, zone: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseVendorTime(value, zone);
  } catch (err) {
    if (err instanceof TimeParseError) throw new TimeParseError(value, field);
    throw err;
  }
}
