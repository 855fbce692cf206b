import { NO_LABELS } from '../config/register-labels.js';
import type { CommonSourceConfig } from '../config/schema.js';
import { isTrading } from '../config/trading-hours.js';
import { OWNS_ALL, type SourceShard } from '../shard.js';
import { errorMessage, type Logger } from '../log.js';
import { SharedRead, SharedReads } from './shared-read.js';
import { checkRegisterCount, FleetRoster, logTruncatedLabels, type KnownRegisters } from './records.js';
import { type ReadContext, type ProbeTarget, type RegisterSummary, type ResolvedTarget, type Source, type TargetLookup } from './source.js';
import { sourceReading, type SourceReading, type RegisterReading, type Sample } from '../readings/reading.js';

/**
 * How long a fleet read also answers `/probe` of registers the roster does not hold (a BusinessKassa
 * serial not in the last complete list): however many such targets are asked, they cost at most one
 * fleet read per this long.
 */
export const FLEET_LOOKUP_REUSE_MS = 10_000;

/** The config of a source read through a vendor's fleet API. */
export type CloudSourceConfig = CommonSourceConfig & { max_registers: number };

/** What buildSource gives a cloud source once its vendor has built it. */
export interface CloudSourceSetting {
  /** The registers of the source's last complete list, kept by source name across config reloads. */
  known: KnownRegisters;
  /**
   * The stores' zone, where the trading hours are read: the source's `timezone`, else
   * global.timezone (never ATOL's UTC default, which is for the vendor's own times).
   */
  storesZone: string;
}

/** What a fleet read works with: it may be shared by several scrapes, so its deadline can move later. */
export interface FleetReadContext extends ReadContext {
  /** Aborted when the latest deadline among the scrapes sharing the read has passed. */
  readonly signal: AbortSignal;
}

/**
 * One fleet read, shared by every scrape that asks for the fleet while it runs, until the latest of
 * their deadlines. Its log is the log of the scrape that started it. Once ended it may be given again
 * (fleetForLookup), failures included, but not a read whose promise rejected.
 */
class FleetRead extends SharedRead {
  readonly result: Promise<SourceReading>;

  constructor(ctx: ReadContext, read: (ctx: FleetReadContext) => Promise<SourceReading>, onEnd: (read: FleetRead) => void) {
    super(ctx.deadline);
    const shared = this.shared;
    const readCtx: FleetReadContext = {
      get deadline() {
        return shared.deadline;
      },
      log: ctx.log,
      signal: shared.signal,
    };
    this.result = read(readCtx).then(
      (result) => {
        this.ended(true, onEnd);
        return result;
      },
      (err: unknown) => {
        this.ended(false, onEnd);
        throw err;
      },
    );
  }

  private ended(reusable: boolean, onEnd: (read: FleetRead) => void): void {
    this.end(reusable);
    onEnd(this);
  }
}

/** The one key of a source's fleet reads. */
const FLEET = 'fleet';

/**
 * What the cloud (fleet-API) sources have in common: a vendor client, the roster of registers the
 * last complete read listed, one fleet read shared by concurrent scrapes, the `max_registers`
 * ceiling, `kkt_trading` and `kkt_source_up` on every result, and `/probe` for the fleet
 * or one register.
 */
export abstract class CloudSource<C extends CloudSourceConfig, T> implements Source {
  abstract readonly type: string;
  protected roster: FleetRoster;
  private storesZone: string;
  /** The fleet read in flight; once ended, kept for fleetForLookup by the sources that need it. */
  private readonly fleetReads = new SharedReads<typeof FLEET, undefined, FleetRead>();
  /** Whether a `/probe` target can need the whole fleet: then the last fleet read is kept for FLEET_LOOKUP_REUSE_MS. */
  protected readonly lookupsNeedFleet: boolean = false;

  constructor(
    readonly config: C,
    protected readonly client: { close(): Promise<void> },
    protected readonly timezone: string,
    /** What the landing page shows beside each register. */
    private readonly detailOf: (r: RegisterReading) => string,
    /** Which registers this process serves, for a vendor whose registers are read one by one. */
    protected readonly shard: SourceShard = OWNS_ALL,
  ) {
    // Until attach(): a source of its own (unit tests build sources without buildSource).
    this.roster = new FleetRoster(detailOf);
    this.storesZone = config.timezone ?? timezone;
  }

  /** Called by buildSource right after the build, before any probe. */
  attach(setting: CloudSourceSetting): void {
    this.roster = new FleetRoster(this.detailOf, setting.known);
    this.storesZone = setting.storesZone;
  }

  get name(): string {
    return this.config.name;
  }

  get timeoutSeconds(): number {
    return (this.config.timeout ?? 0) / 1000;
  }

  registers(): RegisterSummary[] {
    return this.roster.summaries().map((r) => ({ ...r, labels: this.labelsOf(r.kkt) }));
  }

  /** A register's static labels: those `register_labels_file` gives it, made once per config load. */
  protected labelsOf(kkt: string): Readonly<Record<string, string>> {
    return this.config.register_labels?.of(kkt) ?? NO_LABELS;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The source's handle for a `/probe` target, or undefined when it cannot be one of its registers. */
  protected abstract targetRef(target: string): T | undefined;
  protected abstract readonly targetHelp: string;
  /** The endpoint of the fleet read: what a register known but not read reports as failed. */
  protected abstract readonly fleetEndpoint: string;
  /** Reads the whole fleet; requests go out under `ctx.signal`, never a deadline of their own. */
  protected abstract readFleet(ctx: FleetReadContext): Promise<SourceReading>;
  protected abstract readOne(ctx: ReadContext, ref: T, kkt: string): Promise<SourceReading>;

  lookup(target: string): TargetLookup {
    const ref = this.targetRef(target);
    if (ref === undefined) return { ok: false, status: 400, message: `target "${target}" is not ${this.targetHelp}` };
    const unmonitored = this.unmonitored(target);
    if (unmonitored !== undefined) return { ok: false, status: 400, message: unmonitored };
    if (!this.shard.owns(target)) {
      return { ok: false, status: 400, message: `register "${target}" of source "${this.name}" belongs to shard ${this.shard.ownerOf(target)}: probe it there` };
    }
    return { ok: true, target: { kkt: target, ref } };
  }

  /** Why a well-formed target is not a register this source monitors (a 400), or undefined when it may be one. */
  protected unmonitored(_kkt: string): string | undefined {
    return undefined;
  }

  /** A fleet read as a whole is one `/probe` target (vendors read one by one override this). */
  probeTargets(): ProbeTarget[] | undefined {
    return undefined;
  }

  read(ctx: ReadContext, target?: ResolvedTarget): Promise<SourceReading> {
    return target ? this.readOne(ctx, target.ref as T, target.kkt).then((r) => this.finished(r, ctx.log)) : this.readShared(ctx);
  }

  /** Throws a RegisterCountError when the vendor lists more registers than `max_registers`. */
  protected checkListed(count: number, what: string): void {
    checkRegisterCount(count, this.config.max_registers, what);
  }

  /** The register list could not be read: the source is down, and so is every register known from the last list, for `err`. */
  protected failedListReading(ctx: FleetReadContext, started: number, err: unknown): SourceReading {
    const error = `cannot read the register list: ${errorMessage(err)}`;
    ctx.log.error('cannot read the register list', { err: errorMessage(err) });
    return this.sourceDown(started, error);
  }

  private sourceDown(started: number, error: string): SourceReading {
    return { ...sourceReading(this.name, started, false, this.roster.unread(this.fleetEndpoint, error), error), sourceUp: false };
  }

  /** A result as made for one read: its truncated labels logged once, the config's part added. */
  private finished(result: SourceReading, log: Logger): SourceReading {
    logTruncatedLabels(result.registers, log);
    return this.withConfigured(result);
  }

  /**
   * Adds what the config says to every reading of a result made for one read (a result shared by
   * several scrapes is given it once, where it is made): its static labels, and kkt_trading from
   * the source's hours at this moment.
   */
  private withConfigured(result: SourceReading): SourceReading {
    const sample: Sample = { metric: 'kkt_trading', value: isTrading(this.config.trading_hours, this.storesZone, new Date()) ? 1 : 0 };
    for (const r of result.registers) {
      r.samples.push(sample);
      r.labels = this.labelsOf(r.kkt);
    }
    return result;
  }

  /** Joins the fleet read in flight, or starts one, and waits for it until this scrape's deadline. */
  private async readShared(ctx: ReadContext): Promise<SourceReading> {
    const started = performance.now();
    const result = await ctx.deadline.valueBy(this.fleetRead(ctx, 0).result);
    if (!result) {
      const error = 'the register list was still being read at the scrape deadline';
      ctx.log.error(error, { err: 'scrape deadline reached' });
      return this.withConfigured(this.sourceDown(started, error));
    }
    return { ...result, durationSeconds: (performance.now() - started) / 1000 };
  }

  /**
   * The fleet as a read at most FLEET_LOOKUP_REUSE_MS old saw it, for a target only the fleet can
   * tell: the read in flight (joined), else the last one, else a new shared one. Undefined when the
   * read is still going at this scrape's deadline.
   */
  protected fleetForLookup(ctx: ReadContext): Promise<SourceReading | undefined> {
    return ctx.deadline.valueBy(this.fleetRead(ctx, FLEET_LOOKUP_REUSE_MS).result);
  }

  /** The fleet read in flight (joined), else one that ended less than `freshMs` ago, else a new one. */
  private fleetRead(ctx: ReadContext, freshMs: number): FleetRead {
    const shared = this.fleetReads.share(FLEET, ctx.deadline, undefined, freshMs);
    if (shared) return shared;
    const read = (readCtx: FleetReadContext) => this.readFleet(readCtx).then((r) => this.finished(r, readCtx.log));
    return this.fleetReads.start(FLEET, new FleetRead(ctx, read, this.onFleetReadEnd));
  }

  /** A source no `/probe` target needs the fleet of holds no fleet between reads. */
  private readonly onFleetReadEnd = (read: FleetRead): void => {
    if (!this.lookupsNeedFleet && this.fleetReads.get(FLEET) === read) this.fleetReads.delete(FLEET);
  };
}
