import pLimit from 'p-limit';
import type { Kassa24SourceConfig } from './config.js';
import { errorMessage, type Logger } from '../../log.js';
import type { SourceShard } from '../../shard.js';
import { CloudSource, type FleetReadContext } from '../cloud-source.js';
import type { ProbeContext, ProbeTarget } from '../source.js';
import { probeResult, readingOf, unreadReading, type EndpointResult, type ProbeResult, type RegisterReading } from '../../readings/reading.js';
import type { Kassa24Client } from './client.js';
import { kkmSamples, shiftIsOpen, shiftSamples, xreportSamples, type K24Kkm } from './parse.js';
import type { XReportCache } from './xreport-cache.js';

/** Taking an X-report may outlast one scrape; it is not cut off with the scrape's deadline. */
const XREPORT_TIMEOUT_MS = 30_000;

/**
 * Kassa24 shift-ops prober (vendor-apis.md section 4): per register the current shift, and the
 * totals of an X-report taken at most once per `xreport.min_interval` while the shift is open.
 */
export class Kassa24Source extends CloudSource<Kassa24SourceConfig, number> {
  readonly type = 'kassa24' as const;
  protected readonly targetHelp = 'a Kassa24 register id (IdKkm)';
  protected readonly fleetEndpoint = 'kkm';

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
    return this.config.kkms?.map(String).filter((kkt) => this.shard.owns(kkt)).map((kkt) => ({ kkt, labels: {} }));
  }

  protected targetRef(target: string): number | undefined {
    return /^\d{1,12}$/.test(target) ? Number(target) : undefined;
  }

  protected async probeFleet(ctx: FleetReadContext): Promise<ProbeResult> {
    const started = performance.now();
    const signal = ctx.signal;
    let ids: number[];
    try {
      ids = (this.config.kkms ?? (await this.listedKkms(signal))).filter((id) => this.shard.owns(String(id)));
    } catch (err) {
      return this.listFailed(ctx, started, err);
    }
    const limit = pLimit(this.config.concurrency);
    const readings = await Promise.all(ids.map((id) => limit(() => this.readRegister(id, ctx, signal))));
    const settled = this.roster.account(readings, true, this.fleetEndpoint);
    const down = settled.filter((r) => !r.up).length;
    return probeResult(this.name, started, down === 0, settled, down > 0 ? `${down} of ${settled.length} registers could not be read` : undefined);
  }

  private async listedKkms(signal: AbortSignal): Promise<number[]> {
    const listed = await this.client.kkms(signal);
    this.checkListed(listed.length, 'GET /kkms lists');
    return listed.map((k) => k.Id ?? k.IdKkm).filter((id): id is number => id !== undefined);
  }

  protected async probeOne(ctx: ProbeContext, id: number): Promise<ProbeResult> {
    const started = performance.now();
    const reading = await this.readRegister(id, ctx, ctx.deadline.signal);
    return probeResult(this.name, started, reading.up, [reading], reading.error);
  }

  private async readRegister(id: number, ctx: ProbeContext, signal: AbortSignal): Promise<RegisterReading> {
    const kkt = String(id);
    const log = ctx.log.child({ kkt });
    let kkm: K24Kkm;
    try {
      kkm = await this.client.kkm(id, signal);
    } catch (err) {
      log.warn('cannot read the register', { err: errorMessage(err) });
      return unreadReading(kkt, 'kkm', `cannot read the register: ${errorMessage(err)}`);
    }
    const reading = readingOf(kkt, 'kkm', { id_kkm: kkt, name: kkm.Name, znm: kkm.Znm, rnm: kkm.Rnm, ofd_code: kkm.OfdCode }, kkmSamples(kkm));
    if (kkm.IdShift) await this.addShift(reading, kkm.IdShift, ctx, signal, log);
    return reading;
  }

  private async addShift(reading: RegisterReading, shiftId: number, ctx: ProbeContext, signal: AbortSignal, log: Logger): Promise<void> {
    const endpoint = (name: string, success: boolean): void => void reading.endpoints.push({ endpoint: name, success } satisfies EndpointResult);
    let open: boolean;
    let shiftKey: number;
    try {
      const shift = await this.client.shift(shiftId, signal);
      reading.samples.push(...shiftSamples(shift, this.timezone));
      open = shiftIsOpen(shift);
      shiftKey = shift.Id;
      endpoint('shift', true);
    } catch (err) {
      log.warn('cannot read the shift', { shift: shiftId, err: errorMessage(err) });
      endpoint('shift', false);
      reading.error = `cannot read the shift: ${errorMessage(err)}`;
      return;
    }
    const cacheKey = `${this.config.url}|${this.config.login}|${reading.kkt}`;
    if (!open) {
      this.xreports.drop(cacheKey);
      return;
    }
    if (!this.config.xreport.enabled) return;
    const take = () => this.client.xreport(shiftKey, AbortSignal.timeout(XREPORT_TIMEOUT_MS)).then(xreportSamples);
    const entry = await ctx.deadline.settle(this.xreports.get(cacheKey, shiftKey, this.config.xreport.min_interval, take));
    if (entry?.samples) {
      reading.samples.push(...entry.samples, { metric: 'kkt_xreport_timestamp_seconds', value: entry.takenAt / 1000 });
      endpoint('xreport', true);
      return;
    }
    endpoint('xreport', false);
    if (!entry) log.debug('no X-report yet: still being taken at the scrape deadline', { shift: shiftKey });
    else if (!this.xreports.isNews(cacheKey, entry)) log.debug('no X-report', { shift: shiftKey, err: entry.error });
    else if (entry.refused) {
      log.warn('the service refuses X-reports of this shift to this login (usually: it is not the cashier who opened it); not asked again before xreport.min_interval, not said again for this shift', { shift: shiftKey, err: entry.error });
    } else log.warn('no X-report', { shift: shiftKey, err: entry.error });
  }
}
