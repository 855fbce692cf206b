import type { CommonSourceConfig } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log.js';
import type { SourceReading } from '../readings/reading.js';

export interface ReadContext {
  deadline: Deadline;
  log: Logger;
}

/**
 * How many `/probe` targets not in the config (a UKM source's `allowed_targets`) the exporter keeps
 * state for (status, rate gates, reads), least recently probed dropped first; a target whose register
 * was asked less than its `min_interval` ago keeps its gate beyond that. Registers in the config
 * are never dropped.
 */
export const MAX_AD_HOC_TARGETS = 1000;

/** A `/probe` target a source has accepted; `ref` is the source's own handle for it. */
export interface ResolvedTarget {
  kkt: string;
  ref: unknown;
  /** Not in the config: accepted through `allowed_targets`, its state bounded by MAX_AD_HOC_TARGETS. */
  adHoc?: boolean;
}

export type TargetLookup =
  | { ok: true; target: ResolvedTarget }
  /** 400: not a target this source knows or could know. 403: a well-formed target it may not reach. */
  | { ok: false; status: 400 | 403; message: string };

export interface ProbeTarget {
  kkt: string;
  labels: Record<string, string>;
}

export interface RegisterSummary {
  kkt: string;
  detail: string;
  /** Its static labels, as the config gives them now (the landing page's `store`). */
  labels?: Readonly<Record<string, string>>;
}

export interface Source {
  readonly name: string;
  /** Its vendor's `type`. */
  readonly type: string;
  readonly config: CommonSourceConfig;
  /** The source's own timeout cap in seconds (0 = none). */
  readonly timeoutSeconds: number;
  lookup(target: string): TargetLookup;
  /**
   * The `/probe` targets of this shard, for `/sd`: one per register read one by one (with its
   * static labels), or undefined for a source read as a whole.
   */
  probeTargets(): ProbeTarget[] | undefined;
  /** Reads the whole source, or one target of it. Never throws: failures are in the result. */
  read(ctx: ReadContext, target?: ResolvedTarget): Promise<SourceReading>;
  /** The registers the config names (cloud sources: those seen in the last scrape). */
  registers(): RegisterSummary[];
  close(): Promise<void>;
}

