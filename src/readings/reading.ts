import type { RegisterMetric } from './catalog.js';

/*
 * What a source learned about its registers, vendor-neutral: what the sources produce and the
 * renderer consumes. Both depend on this folder; neither on the other.
 */

/** One value read from a vendor, before it becomes a series. */
export interface Sample {
  metric: RegisterMetric;
  value: number;
  /** Labels beyond `source`, `kkt` and the static ones (e.g. `operation`). */
  labels?: Record<string, string>;
}

export interface EndpointResult {
  endpoint: string;
  success: boolean;
}

/** Everything one scrape learned about one register, vendor-neutral. */
export interface RegisterReading {
  kkt: string;
  /** Static labels from the config. */
  labels: Record<string, string>;
  up: boolean;
  /** Identity labels of `kkt_info`. */
  info: Record<string, string>;
  samples: Sample[];
  endpoints: EndpointResult[];
  /** Why it is down or its read incomplete, in words for a person (the landing page); never a secret. */
  error?: string;
  /** What a person should know that is not a failure (e.g. why cached totals are old), for the landing page. */
  notes?: string[];
  /** The `info` labels whose vendor values were longer than MAX_LABEL_VALUE_CHARS and were cut. */
  truncated?: string[];
}

export interface SourceReading {
  source: string;
  success: boolean;
  durationSeconds: number;
  registers: RegisterReading[];
  /** Why the source failed as a whole, when it did. */
  error?: string;
  /**
   * False when the source's own calls (login, register list) failed: kkt_source_up 0. Undefined or
   * true: they worked, or the source has none.
   */
  sourceUp?: boolean;
  /** kkt_source_clock_offset_seconds, for a source whose vendor times carry no offset. */
  clockOffsetSeconds?: number;
  /** What the landing page says about the source that is not a failure (e.g. "times read 3 h ahead: check `timezone`"). */
  warnings?: string[];
}

/**
 * The longest register id (`kkt`) a reading may carry, in UTF-16 code units: a vendor's serial of
 * kilobytes is refused, never written into every series of its register.
 */
export const MAX_KKT_CHARS = 128;
/** The longest other label value (`kkt_info` identity, names, addresses) before it is truncated. */
export const MAX_LABEL_VALUE_CHARS = 256;
/** Ends a truncated label value, within MAX_LABEL_VALUE_CHARS, so a reader sees it was cut. */
export const TRUNCATED_MARKER = '…[truncated]';

/** Why `kkt` cannot be a register's id, or undefined when it can. */
export function kktProblem(kkt: string, field: string): string | undefined {
  if (kkt.length <= MAX_KKT_CHARS) return undefined;
  return `${field} is ${kkt.length} characters long, more than the ${MAX_KKT_CHARS} a register id may have (it begins "${kkt.slice(0, 32)}")`;
}

/** `value` cut to MAX_LABEL_VALUE_CHARS with TRUNCATED_MARKER at its end, never splitting a surrogate pair. */
export function boundedValue(value: string): string {
  if (value.length <= MAX_LABEL_VALUE_CHARS) return value;
  let end = MAX_LABEL_VALUE_CHARS - TRUNCATED_MARKER.length;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end) + TRUNCATED_MARKER;
}

/**
 * A register read from a vendor record: `values` left undefined are absent, never zero. Identity
 * values longer than MAX_LABEL_VALUE_CHARS are truncated and named in `truncated`.
 */
export function readingOf(
  kkt: string,
  endpoint: string,
  info: Record<string, string | undefined>,
  values: Partial<Record<RegisterMetric, number | undefined>>,
): RegisterReading {
  const samples: Sample[] = [];
  for (const [metric, value] of Object.entries(values)) {
    if (value !== undefined && Number.isFinite(value)) samples.push({ metric: metric as RegisterMetric, value });
  }
  const identity: Record<string, string> = {};
  let truncated: string[] | undefined;
  for (const [k, v] of Object.entries(info)) {
    if (v === undefined || v === '') continue;
    identity[k] = boundedValue(v);
    if (v.length > MAX_LABEL_VALUE_CHARS) (truncated ??= []).push(k);
  }
  const reading: RegisterReading = { kkt, labels: {}, up: true, info: identity, samples, endpoints: [{ endpoint, success: true }] };
  if (truncated) reading.truncated = truncated;
  return reading;
}

/** A register the source knows but could not read in this scrape. */
export function unreadReading(kkt: string, endpoint: string, error: string): RegisterReading {
  return { kkt, labels: {}, up: false, info: {}, samples: [], endpoints: [{ endpoint, success: false }], error };
}

export function sourceReading(source: string, startedAt: number, success: boolean, registers: RegisterReading[], error?: string): SourceReading {
  const result: SourceReading = { source, success, durationSeconds: (performance.now() - startedAt) / 1000, registers };
  if (error !== undefined) result.error = error;
  return result;
}
