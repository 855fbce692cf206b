import type { SourceReading, RegisterReading } from '../readings/reading.js';
import type { ReadRecord } from './history.js';
import { MAX_AD_HOC_TARGETS } from '../sources/source.js';

/** A register's last reading, from a `/metrics` scrape or a `/probe`, and the probe that made it. */
export interface RegisterStatus {
  reading: RegisterReading;
  at: Date;
  probeId: number;
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

  record(result: SourceReading, probe: ReadRecord): void {
    const entry = this.entryOf(result.source);
    const status = (reading: RegisterReading): RegisterStatus => ({ reading, at: probe.at, probeId: probe.id });
    if (probe.target === undefined) {
      entry.last = { at: probe.at, success: result.success, durationSeconds: result.durationSeconds, probeId: probe.id };
      if (result.error !== undefined) entry.last.error = result.error;
      if (result.warnings?.length) entry.last.warnings = result.warnings;
      entry.registers = new Map(result.registers.map((r) => [r.kkt, status(r)]));
    } else if (probe.adHoc) {
      for (const r of result.registers) {
        entry.adHoc.delete(r.kkt);
        entry.adHoc.set(r.kkt, status(r));
      }
      for (const kkt of entry.adHoc.keys()) {
        if (entry.adHoc.size <= MAX_AD_HOC_TARGETS) break;
        entry.adHoc.delete(kkt);
      }
    } else {
      for (const r of result.registers) entry.registers.set(r.kkt, status(r));
    }
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

  private entryOf(source: string): SourceEntry {
    let entry = this.sources.get(source);
    if (!entry) this.sources.set(source, (entry = { registers: new Map(), adHoc: new Map() }));
    return entry;
  }
}
