import type { SourceConfig } from '../config/schema.js';
import type { SourceType } from '../metrics/definitions.js';
import { FleetRoster } from './records.js';
import type { ProbeContext, ProbeResult, RegisterReading, RegisterSummary, ResolvedTarget, Source, TargetLookup } from './source.js';

/**
 * What the cloud (fleet-API) sources have in common: a vendor client, the roster of registers the
 * last complete read listed, and `/probe` for the fleet or one register.
 */
export abstract class CloudSource<C extends SourceConfig, T> implements Source {
  abstract readonly type: SourceType;
  protected readonly roster: FleetRoster;

  constructor(
    readonly config: C,
    protected readonly client: { close(): Promise<void> },
    protected readonly timezone: string,
    /** What the landing page shows beside each register. */
    detailOf: (r: RegisterReading) => string,
  ) {
    this.roster = new FleetRoster(detailOf);
  }

  get name(): string {
    return this.config.name;
  }

  get timeoutSeconds(): number {
    return (this.config.timeout ?? 0) / 1000;
  }

  registers(): RegisterSummary[] {
    return this.roster.summaries();
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The source's handle for a `/probe` target, or undefined when it cannot be one of its registers. */
  protected abstract targetRef(target: string): T | undefined;
  protected abstract readonly targetHelp: string;
  protected abstract probeFleet(ctx: ProbeContext): Promise<ProbeResult>;
  protected abstract probeOne(ctx: ProbeContext, ref: T, kkt: string): Promise<ProbeResult>;

  lookup(target: string): TargetLookup {
    const ref = this.targetRef(target);
    if (ref === undefined) return { ok: false, status: 400, message: `target "${target}" is not ${this.targetHelp}` };
    return { ok: true, target: { kkt: target, ref } };
  }

  probe(ctx: ProbeContext, target?: ResolvedTarget): Promise<ProbeResult> {
    return target ? this.probeOne(ctx, target.ref as T, target.kkt) : this.probeFleet(ctx);
  }
}
