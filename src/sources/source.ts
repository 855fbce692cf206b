import type { SourceConfig } from '../config/schema.js';
import type { Deadline } from '../http/deadline.js';
import type { Logger } from '../log.js';
import type { RegisterMetric, SourceType } from '../metrics/definitions.js';

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
}

export interface ProbeResult {
  source: string;
  success: boolean;
  durationSeconds: number;
  registers: RegisterReading[];
}

export interface ProbeContext {
  deadline: Deadline;
  log: Logger;
  /**
   * Told of each register's reading as soon as it is complete, before the probe ends, so the answer
   * can be prepared while slower registers are still read. The result still holds every reading.
   */
  onReading?: (reading: RegisterReading) => void;
}

/** A `/probe` target a source has accepted; `ref` is the source's own handle for it. */
export interface ResolvedTarget {
  kkt: string;
  ref: unknown;
}

export type TargetLookup =
  | { ok: true; target: ResolvedTarget }
  /** 400: not a target this source knows or could know. 403: a well-formed target it may not reach. */
  | { ok: false; status: 400 | 403; message: string };

export interface RegisterSummary {
  kkt: string;
  detail: string;
}

export interface Source {
  readonly name: string;
  readonly type: SourceType;
  readonly config: SourceConfig;
  /** The source's own timeout cap in seconds (0 = none). */
  readonly timeoutSeconds: number;
  lookup(target: string): TargetLookup;
  /** Reads the whole source, or one target of it. Never throws: failures are in the result. */
  probe(ctx: ProbeContext, target?: ResolvedTarget): Promise<ProbeResult>;
  /** The registers the config names (cloud sources: those seen in the last scrape). */
  registers(): RegisterSummary[];
  close(): Promise<void>;
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
export function unreadReading(kkt: string, endpoint: string): RegisterReading {
  return { kkt, labels: {}, up: false, info: {}, samples: [], endpoints: [{ endpoint, success: false }] };
}

export function probeResult(source: string, startedAt: number, success: boolean, registers: RegisterReading[]): ProbeResult {
  return { source, success, durationSeconds: (performance.now() - startedAt) / 1000, registers };
}
