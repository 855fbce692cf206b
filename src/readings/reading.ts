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
}

export interface ProbeResult {
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

/** A register read from a vendor record: `values` left undefined are absent, never zero. */
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
  for (const [k, v] of Object.entries(info)) if (v !== undefined && v !== '') identity[k] = v;
  return { kkt, labels: {}, up: true, info: identity, samples, endpoints: [{ endpoint, success: true }] };
}

/** A register the source knows but could not read in this scrape. */
export function unreadReading(kkt: string, endpoint: string, error: string): RegisterReading {
  return { kkt, labels: {}, up: false, info: {}, samples: [], endpoints: [{ endpoint, success: false }], error };
}

export function probeResult(source: string, startedAt: number, success: boolean, registers: RegisterReading[], error?: string): ProbeResult {
  const result: ProbeResult = { source, success, durationSeconds: (performance.now() - startedAt) / 1000, registers };
  if (error !== undefined) result.error = error;
  return result;
}
