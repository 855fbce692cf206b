import type { BusinessKassaSourceConfig } from './config.js';
import { errorMessage, type Logger } from '../../log.js';
import { CloudSource, type FleetReadContext } from '../cloud-source.js';
import { MALFORMED_RECORDS, recordReading } from '../records.js';
import { type ProbeContext } from '../source.js';
import { probeResult, unreadReading, type ProbeResult, type RegisterReading } from '../../readings/reading.js';
import type { BusinessKassaClient } from './client.js';
import { parseBkRegister } from './parse.js';

const EIP_RE = /^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/;
const SN_RE = /^[0-9A-Za-z_-]{1,64}$/;

type BkTarget = { eip: string } | { sn: string };

/** BusinessKassa's cloud register service: `GET /frs` for the fleet (vendor-apis.md section 3). */
export class BusinessKassaSource extends CloudSource<BusinessKassaSourceConfig, BkTarget> {
  readonly type = 'businesskassa' as const;
  protected readonly targetHelp = 'a register eip (ip:port) or serial number';
  protected readonly fleetEndpoint = 'frs';

  constructor(config: BusinessKassaSourceConfig, protected override readonly client: BusinessKassaClient, timezone: string) {
    super(config, client, timezone, (r) => r.info.eip ?? '');
  }

  /** A register's `eip` (ip:port, as the service addresses it) or its serial number `sn`. */
  protected targetRef(target: string): BkTarget | undefined {
    if (EIP_RE.test(target)) return { eip: target };
    if (SN_RE.test(target)) return { sn: target };
    return undefined;
  }

  private map(raw: unknown, endpoint: string, log: Logger): RegisterReading | undefined {
    return recordReading(parseBkRegister(raw, this.timezone, endpoint), endpoint, log);
  }

  protected async probeFleet(ctx: FleetReadContext): Promise<ProbeResult> {
    const started = performance.now();
    let items: unknown[];
    try {
      items = await this.client.fleet(ctx.signal);
      this.checkListed(items.length, 'GET /frs lists');
    } catch (err) {
      return this.listFailed(ctx, started, err);
    }
    const mapped = items.map((raw) => this.map(raw, 'frs', ctx.log));
    // A malformed record leaves the list incomplete: registers it may have been stay reported down.
    const complete = mapped.every((r) => r?.up);
    const readings = this.roster.account(mapped, complete, this.fleetEndpoint);
    const circuitsOk = await this.addCircuits(readings, ctx.signal, ctx.log);
    return probeResult(this.name, started, complete && circuitsOk, readings, !circuitsOk ? 'cannot read a fiscal circuit' : complete ? undefined : MALFORMED_RECORDS);
  }

  /** `kkt_circuit_active` for the configured circuits; false if one could not be read. */
  private async addCircuits(readings: RegisterReading[], signal: AbortSignal, log: Logger): Promise<boolean> {
    if (this.config.circuits.length === 0) return true;
    const byEip = new Map(readings.filter((r) => r.info.eip).map((r) => [r.info.eip, r]));
    const results = await Promise.allSettled(this.config.circuits.map((inn) => this.client.circuit(inn, signal)));
    let ok = true;
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        ok = false;
        log.error('cannot read the fiscal circuit', { circuit: this.config.circuits[i], err: errorMessage(result.reason) });
        return;
      }
      const circuit = result.value;
      for (const fr of circuit.frs) {
        const r = byEip.get(fr.eip);
        if (!r?.up) continue;
        r.samples.push({ metric: 'kkt_circuit_active', value: Number(fr.is_active), labels: { circuit: circuit.id ?? this.config.circuits[i] ?? '', device_type: fr.type ?? '' } });
      }
    });
    return ok;
  }

  protected async probeOne(ctx: ProbeContext, target: BkTarget, kkt: string): Promise<ProbeResult> {
    const started = performance.now();
    const signal = ctx.deadline.signal;
    try {
      const eip = 'eip' in target ? target.eip : this.roster.detail(target.sn);
      const raw = eip ? await this.client.one(eip, signal) : (await this.client.fleet(signal)).find((r) => (r as { sn?: unknown } | null)?.sn === kkt);
      const reading = raw === undefined ? undefined : this.map(raw, 'fr', ctx.log);
      if (!reading) ctx.log.warn('register not found', { kkt });
      const result = reading ?? unreadReading(kkt, 'fr', 'register not found');
      return probeResult(this.name, started, result.up, [result], result.error);
    } catch (err) {
      const error = `cannot read the register: ${errorMessage(err)}`;
      ctx.log.warn('cannot read the register', { kkt, err: errorMessage(err) });
      return probeResult(this.name, started, false, [unreadReading(kkt, 'fr', error)], error);
    }
  }
}
