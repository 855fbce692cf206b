import type { SourceReading, RegisterReading } from '../readings/reading.js';
import type { ReadRecord } from './history.js';
import { MAX_AD_HOC_TARGETS } from '../sources/source.js';
import { nextFnTrack, type FnTrack } from './fn-plan.js';

/** A register's last reading, from a `/metrics` scrape or a `/probe`, and the probe that made it. */
export interface RegisterStatus {
  reading: RegisterReading;
  at: Date;
  probeId: number;
  /** Since when its reads have been in the state this one is in (readStateOf), as far as this process saw. */
  since: Date;
  /** Its FN so far (fn-plan.ts): kept with the status, so bounded by the fleet like it. */
  fn?: FnTrack;
}

/** How a register's read went: every endpoint answered, some did, or none did. */
export type ReadState = 'read' | 'incomplete' | 'unreachable';

export function readStateOf(reading: RegisterReading): ReadState {
  return !reading.up ? 'unreachable' : reading.error !== undefined ? 'incomplete' : 'read';
}

/** A register whose read state changed with a reading: from `was`, or first seen not fully read. */
export interface StateChange {
  reading: RegisterReading;
  was?: RegisterStatus;
}

/** How the last read of a whole source went. */
export interface SourceStatus {
  at: Date;
  success: boolean;
  durationSeconds: number;
  error?: string;
  /** What the source said that is not a failure (SourceReading.warnings). */
  warnings?: string[];
  probeId: number;
}

interface SourceEntry {
  last?: SourceStatus;
  registers: Map<string, RegisterStatus>;
  /** `/probe` targets not in the config, least recently probed first: at most MAX_AD_HOC_TARGETS. */
  adHoc: Map<string, RegisterStatus>;
}

/**
 * The last reading of every register and the last whole read of every source, whichever endpoint
 * made them: what the landing page shows. Bounded by the fleet: one entry per register the vendor
 * listed in the last whole read (or probed alone since), plus the last MAX_AD_HOC_TARGETS targets
 * not in the config that were probed.
 */
export class FleetStatus {
  private readonly sources = new Map<string, SourceEntry>();

  /**
   * Keeps `result`'s readings, and gives the registers whose read state changed with them: against
   * the register's last reading, which outlives a reload that keeps its source and its name.
   */
  record(result: SourceReading, probe: ReadRecord): StateChange[] {
    const entry = this.entryOf(result.source);
    const changes: StateChange[] = [];
    const status = (reading: RegisterReading, was: RegisterStatus | undefined): RegisterStatus => {
      const state = readStateOf(reading);
      const same = was ? readStateOf(was.reading) === state : state === 'read';
      if (!same) changes.push(was ? { reading, was } : { reading });
      const fn = nextFnTrack(was?.fn, reading, probe.at.getTime() / 1000);
      return { reading, at: probe.at, probeId: probe.id, since: same && was ? was.since : probe.at, ...(fn ? { fn } : {}) };
    };
    if (probe.target === undefined) {
      entry.last = { at: probe.at, success: result.success, durationSeconds: result.durationSeconds, probeId: probe.id };
      if (result.error !== undefined) entry.last.error = result.error;
      if (result.warnings?.length) entry.last.warnings = result.warnings;
      const before = entry.registers;
      entry.registers = new Map(result.registers.map((r) => [r.kkt, status(r, before.get(r.kkt))]));
    } else if (probe.adHoc) {
      for (const r of result.registers) {
        const was = entry.adHoc.get(r.kkt);
        entry.adHoc.delete(r.kkt);
        entry.adHoc.set(r.kkt, status(r, was));
      }
      for (const kkt of entry.adHoc.keys()) {
        if (entry.adHoc.size <= MAX_AD_HOC_TARGETS) break;
        entry.adHoc.delete(kkt);
      }
    } else {
      for (const r of result.registers) entry.registers.set(r.kkt, status(r, entry.registers.get(r.kkt)));
    }
    return changes;
  }

  /** How many ad-hoc targets' readings are kept, for tests and the soak. */
  adHocCount(source: string): number {
    return this.sources.get(source)?.adHoc.size ?? 0;
  }

  /** Forgets sources a reload removed. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.sources.keys()) if (!names.has(name)) this.sources.delete(name);
  }

  lastRead(source: string): SourceStatus | undefined {
    return this.sources.get(source)?.last;
  }

  register(source: string, kkt: string): RegisterStatus | undefined {
    const entry = this.sources.get(source);
    return entry?.registers.get(kkt) ?? entry?.adHoc.get(kkt);
  }

  /** Every register's last status (configured or listed, then ad-hoc), for the FN plan. */
  *all(): Generator<{ source: string; kkt: string; status: RegisterStatus }> {
    for (const [source, entry] of this.sources) {
      for (const [kkt, status] of entry.registers) yield { source, kkt, status };
      for (const [kkt, status] of entry.adHoc) yield { source, kkt, status };
    }
  }

  private entryOf(source: string): SourceEntry {
    let entry = this.sources.get(source);
    if (!entry) this.sources.set(source, (entry = { registers: new Map(), adHoc: new Map() }));
    return entry;
  }
}
