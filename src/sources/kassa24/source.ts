import pLimit from 'p-limit';
import type { Kassa24SourceConfig } from './config.js';
import { errorMessage, type Logger } from '../../log.js';
import type { SourceShard } from '../../shard.js';
import { CloudSource, type FleetReadContext } from '../cloud-source.js';
import type { ReadContext, ProbeTarget } from '../source.js';
import { sourceReading, readingOf, unreadReading, type EndpointResult, type SourceReading, type RegisterReading, type Sample } from '../../readings/reading.js';
import type { Kassa24Client } from './client.js';
import { k24Refusal, registerBlocked, registerSamples, shiftIsOpen, shiftSamples, xreportSamples, type K24Register, type K24Shift } from './parse.js';
import type { XReportCache } from './xreport-cache.js';

/** Taking an X-report may outlast one scrape; it is not cut off with the scrape's deadline. */
const XREPORT_TIMEOUT_MS = 30_000;

/**
 * Kassa24 shift-ops prober (README, "How Kassa24 shifts are probed"): per register the current
 * shift, and the totals of an X-report taken at most once per `xreport.min_interval` while the
 * shift is open.
 */
export class Kassa24Source extends CloudSource<Kassa24SourceConfig, number> {
  readonly type = 'kassa24' as const;
  protected readonly targetHelp = 'a Kassa24 register id (IdKkm)';
  protected readonly fleetEndpoint = 'kkm';
  /** `kkms` as `/probe` targets; undefined when the vendor's list says which registers there are. */
  private readonly configured = this.config.kkms && new Set(this.config.kkms.map(String));
  /** Every IdKkm of the last GET /kkms (whichever shard owns it); undefined before this config's first list. */
  private listed: ReadonlySet<string> | undefined;

  constructor(
    config: Kassa24SourceConfig,
    protected override readonly client: Kassa24Client,
    timezone: string,
    private readonly xreports: XReportCache,
    shard?: SourceShard,
  ) {
    super(config, client, timezone, (r) => r.info.name ?? '', shard);
  }

  /**
   * The configured registers this shard serves; without `kkms` the registers are known only from
   * the vendor's list, so the source is one target (each shard's probe reads the registers it owns).
   */
  override probeTargets(): ProbeTarget[] | undefined {
    return this.config.kkms?.map(String).filter((kkt) => this.shard.owns(kkt)).map((kkt) => ({ kkt, labels: this.labelsOf(kkt) }));
  }

  /** An IdKkm as the vendor writes it (no leading zero: `070000` would be a second name, and series, for 70000). */
  protected targetRef(target: string): number | undefined {
    return /^[1-9]\d{0,11}$/.test(target) ? Number(target) : undefined;
  }

  /**
   * The exporter reads only the registers it is told to (an X-report is a fiscal document): those
   * in `kkms`, else those of the last GET /kkms (without `kkms` the source watches every register
   * the account lists). Before this config has read its list, the registers of the source's last
   * complete list (kept across reloads) stand in. Before any list, a target is taken as asked: a
   * `/probe` job of single registers must work from its first scrape, and the service answers only
   * for the account's own registers.
   */
  protected override unmonitored(kkt: string): string | undefined {
    if (this.configured) return this.configured.has(kkt) ? undefined : `register ${kkt} is not in the kkms of source "${this.name}": add it there to probe it`;
    if (this.listed ? this.listed.has(kkt) : this.roster.detail(kkt) !== undefined) return undefined;
    if (this.listed || this.registers().length > 0) return `register ${kkt} is not in the register list of source "${this.name}" (GET /kkms) at its last read`;
    return undefined;
  }

  protected async readFleet(ctx: FleetReadContext): Promise<SourceReading> {
    const started = performance.now();
    const signal = ctx.signal;
    try {
      await this.client.signIn(signal);
    } catch (err) {
      return this.loginFailed(ctx, started, err);
    }
    let ids: number[];
    try {
      ids = this.ownedRegisters() ?? (await this.listedRegisters(signal)).filter((id) => this.shard.owns(String(id)));
    } catch (err) {
      return this.failedListReading(ctx, started, err);
    }
    const limit = pLimit(this.config.concurrency);
    const readings = await Promise.all(ids.map((id) => limit(() => this.readRegister(id, ctx, signal))));
    const settled = this.roster.account(readings, true, this.fleetEndpoint);
    const down = settled.filter((r) => !r.up).length;
    return sourceReading(this.name, started, down === 0, settled, down > 0 ? `${down} of ${settled.length} registers could not be read` : undefined);
  }

  /** The configured registers (`kkms`) this shard owns; undefined when the vendor's list says which. */
  private ownedRegisters(): number[] | undefined {
    return this.config.kkms?.filter((id) => this.shard.owns(String(id)));
  }

  /** The registers GET /kkms lists, each once; they become the targets `/probe` may read. */
  private async listedRegisters(signal: AbortSignal): Promise<number[]> {
    const listed = await this.client.registers(signal);
    this.checkListed(listed.length, 'GET /kkms lists');
    const ids = [...new Set(listed.map((k) => k.Id ?? k.IdKkm).filter((id): id is number => id !== undefined))];
    this.listed = new Set(ids.map(String));
    return ids;
  }

  /**
   * The source's own call, the login, failed: kkt_source_up 0 and every register down. Without
   * `kkms` the login is the first step of reading the list, and fails as the list does.
   */
  private loginFailed(ctx: FleetReadContext, started: number, err: unknown): SourceReading {
    const owned = this.ownedRegisters();
    return owned ? this.loggedOut(ctx, started, err, owned) : { ...this.failedListReading(ctx, started, err), sourceUp: false };
  }

  /** The login failed: kkt_source_up 0, and each of `ids` down without being asked. */
  private loggedOut(ctx: ReadContext, started: number, err: unknown, ids: number[]): SourceReading {
    const error = errorMessage(err);
    ctx.log.error('cannot log in', { err: error });
    return { ...sourceReading(this.name, started, false, ids.map((id) => unreadReading(String(id), this.fleetEndpoint, error)), error), sourceUp: false };
  }

  protected async readOne(ctx: ReadContext, id: number): Promise<SourceReading> {
    const started = performance.now();
    try {
      await this.client.signIn(ctx.deadline.signal);
    } catch (err) {
      return this.loggedOut(ctx, started, err, [id]);
    }
    const reading = await this.readRegister(id, ctx, ctx.deadline.signal);
    return sourceReading(this.name, started, reading.up, [reading], reading.error);
  }

  private async readRegister(id: number, ctx: ReadContext, signal: AbortSignal): Promise<RegisterReading> {
    const kkt = String(id);
    const log = ctx.log.child({ kkt });
    let register: K24Register;
    try {
      register = await this.client.register(id, signal);
    } catch (err) {
      // What fails a register on every read is detail: the process log says when that changes (status/read-changes.ts).
      if (k24Refusal(err) === 'blocked') return blockedReading(kkt, err, log.detail());
      log.detail().warn('cannot read the register', { err: errorMessage(err) });
      return unreadReading(kkt, 'kkm', `cannot read the register: ${errorMessage(err)}`);
    }
    const values = registerSamples(register, this.config.blocked_from_lock);
    if (register.OfdCode !== undefined && values.kkt_ofd_network_error_code === undefined) {
      log.warn('OfdCode is not a number: no kkt_ofd_network_error_code', { ofd_code: register.OfdCode });
    }
    const reading = readingOf(kkt, 'kkm', { id_kkm: kkt, name: register.Name, znm: register.Znm, rnm: register.Rnm }, values);
    if (register.IdShift) await this.addShift(reading, register, register.IdShift, ctx, signal, log);
    return reading;
  }

  /** The register's shift; a failed call leaves the register up and partly read (`reading.error`). */
  private async addShift(reading: RegisterReading, register: K24Register, shiftId: number, ctx: ReadContext, signal: AbortSignal, log: Logger): Promise<void> {
    let shift: K24Shift;
    try {
      shift = await this.client.shift(shiftId, signal);
    } catch (err) {
      if (k24Refusal(err) === 'blocked') markBlocked(reading);
      log.detail().warn('cannot read the shift', { shift: shiftId, err: errorMessage(err) });
      addEndpoint(reading, 'shift', false);
      reading.error = `cannot read the shift: ${errorMessage(err)}`;
      return;
    }
    reading.samples.push(...shiftSamples(shift, this.timezone));
    addEndpoint(reading, 'shift', true);
    const cacheKey = `${this.config.url}|${this.config.login}|${reading.kkt}`;
    if (!shiftIsOpen(shift)) {
      this.xreports.drop(cacheKey);
      return;
    }
    if (!this.config.xreport.enabled) return;
    const held = xreportHold(register, this.config.blocked_from_lock);
    if (held) this.keepCachedXReport(reading, cacheKey, shift.Id, held, log);
    else await this.addXReport(reading, cacheKey, shift.Id, ctx, log);
  }

  /**
   * No X-report while it would deepen a backlog: the cached totals of this shift, if any, stay with
   * their own kkt_xreport_timestamp_seconds, and a note says why they are old. The X-report is not
   * asked, so it has no endpoint result.
   */
  private keepCachedXReport(reading: RegisterReading, cacheKey: string, shiftId: number, why: string, log: Logger): void {
    const cached = this.xreports.peek(cacheKey, shiftId);
    if (cached?.samples) reading.samples.push(...totalsOf(cached.samples, cached.takenAt));
    (reading.notes ??= []).push(`X-report not taken: ${why}; ${cached?.samples ? `totals from ${utcTime(cached.takenAt)}` : 'no totals yet'}`);
    log.debug('X-report not taken', { shift: shiftId, why });
  }

  private async addXReport(reading: RegisterReading, cacheKey: string, shiftId: number, ctx: ReadContext, log: Logger): Promise<void> {
    const take = () => this.client.xreport(shiftId, AbortSignal.timeout(XREPORT_TIMEOUT_MS)).then(xreportSamples);
    const entry = await ctx.deadline.valueBy(this.xreports.get(cacheKey, shiftId, this.config.xreport.min_interval, take));
    if (entry?.samples) {
      reading.samples.push(...totalsOf(entry.samples, entry.takenAt));
      addEndpoint(reading, 'xreport', true);
      return;
    }
    addEndpoint(reading, 'xreport', false);
    // The blocked answer stands until the next attempt is due, one xreport.min_interval later.
    if (entry?.blocked) markBlocked(reading);
    if (!entry) log.debug('no X-report yet: still being taken at the scrape deadline', { shift: shiftId });
    else if (!this.xreports.isNews(cacheKey, entry)) log.debug('no X-report', { shift: shiftId, err: entry.error });
    else if (entry.refused) {
      log.warn('the service refuses X-reports of this shift to this login (usually: it is not the cashier who opened it); not asked again before xreport.min_interval, not said again for this shift', { shift: shiftId, err: entry.error });
    } else if (entry.blocked) log.warn('the service says the register is blocked', { shift: shiftId, err: entry.error });
    else log.warn('no X-report', { shift: shiftId, err: entry.error });
  }
}

/** An X-report's totals and when it was taken. */
function totalsOf(samples: Sample[], takenAt: number): Sample[] {
  return [...samples, { metric: 'kkt_xreport_timestamp_seconds', value: takenAt / 1000 }];
}

function addEndpoint(reading: RegisterReading, endpoint: string, success: boolean): void {
  reading.endpoints.push({ endpoint, success } satisfies EndpointResult);
}

/** kkt_register_blocked 1, whatever the register record said: the service answered "касса заблокирована". */
function markBlocked(reading: RegisterReading): void {
  reading.samples = reading.samples.filter((s) => s.metric !== 'kkt_register_blocked');
  reading.samples.push({ metric: 'kkt_register_blocked', value: 1 });
}

/**
 * GET /kkms/:id answered 403 "касса заблокирована": the service answered for the register (kkt_up 1),
 * and all it says is that it is blocked; its record and shift stay unknown.
 */
function blockedReading(kkt: string, err: unknown, log: Logger): RegisterReading {
  log.warn('the service says the register is blocked', { err: errorMessage(err) });
  const reading = readingOf(kkt, 'kkm', { id_kkm: kkt }, { kkt_register_blocked: 1 });
  reading.endpoints = [{ endpoint: 'kkm', success: false }];
  reading.error = `the register is blocked: ${errorMessage(err)}`;
  return reading;
}

/**
 * Why an X-report must not be taken now, or undefined. It is a fiscal document: a register keeping
 * documents offline would queue one more for the OFD, and a blocked one cannot send it either.
 */
function xreportHold(register: K24Register, blockedFromLock: boolean): string | undefined {
  const offline = register.OfflineQueue ?? 0;
  if (offline > 0) return `${offline} document${offline === 1 ? '' : 's'} kept offline`;
  if (registerBlocked(register, blockedFromLock)) return 'the register is blocked';
  return undefined;
}

/** "14:05 UTC" today, "2025-03-01 14:05 UTC" on another day. */
function utcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const day = iso.slice(0, 10);
  return `${day === new Date().toISOString().slice(0, 10) ? '' : `${day} `}${iso.slice(11, 16)} UTC`;
}
