import type { BusinessKassaSourceConfig } from './config.js';
import { errorMessage, type Logger } from '../../log.js';
import { CloudSource, type FleetReadContext } from '../cloud-source.js';
import { MALFORMED_RECORDS, recordReading } from '../records.js';
import { type ProbeContext } from '../source.js';
import { probeResult, unreadReading, type ProbeResult, type RegisterReading } from '../../readings/reading.js';
import type { BusinessKassaClient } from './client.js';
import { ClockWatch, type RegisterTime } from './clock.js';
import { parseBkRegister } from './parse.js';

const EIP_RE = /^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/;
const SN_RE = /^[0-9A-Za-z_-]{1,64}$/;

type BkTarget = { eip: string } | { sn: string };

/** A register's `fcircuit` endpoint result, once per register (a failure wins); a failure is also why its read is incomplete. */
function markEndpoint(r: RegisterReading | undefined, success: boolean, error?: string): void {
  if (!r) return;
  const known = r.endpoints.find((e) => e.endpoint === 'fcircuit');
  if (known) known.success &&= success;
  else r.endpoints.push({ endpoint: 'fcircuit', success });
  if (error && !r.error) r.error = error;
}

/** BusinessKassa's cloud register service: `GET /frs` for the fleet (vendor-apis.md section 3). */
export class BusinessKassaSource extends CloudSource<BusinessKassaSourceConfig, BkTarget> {
  readonly type = 'businesskassa' as const;
  protected readonly targetHelp = 'a register eip (ip:port) or serial number';
  protected readonly fleetEndpoint = 'frs';
  private readonly clock = new ClockWatch();
  /** The registers (eip) of each configured circuit (INN) at its last successful read. */
  private readonly circuitMembers = new Map<string, Set<string>>();

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
      return this.withClock(this.listFailed(ctx, started, err));
    }
    const mapped = items.map((raw) => this.map(raw, 'frs', ctx.log));
    // A malformed record leaves the list incomplete: registers it may have been stay reported down.
    const complete = mapped.every((r) => r?.up);
    const readings = this.roster.account(mapped, complete, this.fleetEndpoint);
    this.checkClock(readings, ctx.log);
    const circuitsOk = await this.addCircuits(readings, ctx.signal, ctx.log);
    return this.withClock(probeResult(this.name, started, complete && circuitsOk, readings, !circuitsOk ? 'cannot read a fiscal circuit' : complete ? undefined : MALFORMED_RECORDS));
  }

  /** Checks the fleet's offset-less times against the exporter's clock; logs once per change. */
  private checkClock(readings: RegisterReading[], log: Logger): void {
    const times: RegisterTime[] = [];
    for (const r of readings) {
      const t = r.up ? r.samples.find((s) => s.metric === 'kkt_status_timestamp_seconds' && !s.labels) : undefined;
      if (t) times.push({ kkt: r.kkt, seconds: t.value });
    }
    const { skew, changed } = this.clock.check(times, Date.now() / 1000);
    if (!changed) return;
    if (skew.warning) log.warn('vendor times do not match the exporter clock', { offset_seconds: skew.offsetSeconds, timezone: this.timezone, problem: skew.warning });
    else log.info('vendor times match the exporter clock again', { timezone: this.timezone });
  }

  /** Every BusinessKassa result carries the clock offset (0 when the times look right) and its warning. */
  private withClock(result: ProbeResult): ProbeResult {
    const { offsetSeconds, warning } = this.clock.current;
    return { ...result, clockOffsetSeconds: offsetSeconds, ...(warning ? { warnings: [...(result.warnings ?? []), warning] } : {}) };
  }

  /**
   * `kkt_circuit_active` for the configured circuits, and `fcircuit` endpoint success for their
   * registers: when a circuit cannot be read, the registers it had at its last read get endpoint
   * `fcircuit` 0. False if one could not be read.
   */
  private async addCircuits(readings: RegisterReading[], signal: AbortSignal, log: Logger): Promise<boolean> {
    if (this.config.circuits.length === 0) return true;
    const byEip = new Map(readings.filter((r) => r.up && r.info.eip).map((r) => [r.info.eip, r]));
    const results = await Promise.allSettled(this.config.circuits.map((inn) => this.client.circuit(inn, signal)));
    let ok = true;
    results.forEach((result, i) => {
      const inn = this.config.circuits[i] ?? '';
      if (result.status === 'rejected') {
        ok = false;
        log.error('cannot read the fiscal circuit', { circuit: inn, err: errorMessage(result.reason) });
        const error = `cannot read fiscal circuit ${inn}: ${errorMessage(result.reason)}`;
        for (const eip of this.circuitMembers.get(inn) ?? []) markEndpoint(byEip.get(eip), false, error);
        return;
      }
      const circuit = result.value;
      const members = new Set<string>();
      for (const fr of circuit.frs) {
        // A register listed twice would make two identical series, and Prometheus refuses the whole scrape.
        if (members.has(fr.eip)) continue;
        members.add(fr.eip);
        const r = byEip.get(fr.eip);
        if (!r) continue;
        markEndpoint(r, true);
        r.samples.push({ metric: 'kkt_circuit_active', value: Number(fr.is_active), labels: { circuit: circuit.id ?? inn, device_type: fr.type ?? '' } });
      }
      this.circuitMembers.set(inn, members);
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
      return this.withClock(probeResult(this.name, started, result.up, [result], result.error));
    } catch (err) {
      const error = `cannot read the register: ${errorMessage(err)}`;
      ctx.log.warn('cannot read the register', { kkt, err: errorMessage(err) });
      return this.withClock(probeResult(this.name, started, false, [unreadReading(kkt, 'fr', error)], error));
    }
  }
}
