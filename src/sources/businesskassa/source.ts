import type { BusinessKassaSourceConfig } from './config.js';
import { errorMessage, type Logger } from '../../log.js';
import { CloudSource, type FleetReadContext } from '../cloud-source.js';
import { MALFORMED_RECORDS, recordReading } from '../records.js';
import { type ReadContext } from '../source.js';
import { sourceReading, unreadReading, type SourceReading, type RegisterReading, type Sample } from '../../readings/reading.js';
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

/** Conflicting circuit entries named in one log line; the line gives the count of all. */
const MAX_LOGGED_CONFLICTS = 10;

/**
 * One kkt_circuit_active per register and circuit however often the vendor lists it (a repeat would
 * be a second sample with the same labels, which Prometheus drops without a word): the register is
 * active only if every entry says so, whatever their order; `device_type` is the first entry's.
 * Repeats are told by circuit label, so two configured INNs answering with one circuit id collapse too.
 */
class CircuitActivity {
  private readonly samples = new Map<string, Sample>();
  /** `circuit/kkt` of each register listed both active and not. */
  readonly conflicts = new Set<string>();

  add(r: RegisterReading, circuit: string, entry: { type?: string; is_active: boolean }): void {
    const key = `${circuit}\u0000${r.kkt}`;
    const value = Number(entry.is_active);
    const seen = this.samples.get(key);
    if (!seen) {
      markEndpoint(r, true);
      const sample: Sample = { metric: 'kkt_circuit_active', value, labels: { circuit, device_type: entry.type ?? '' } };
      this.samples.set(key, sample);
      r.samples.push(sample);
      return;
    }
    if (seen.value === value) return;
    this.conflicts.add(`${circuit}/${r.kkt}`);
    seen.value = 0;
  }
}

/** BusinessKassa's cloud register service: `GET /frs` for the fleet (README, "How BusinessKassa is read"). */
export class BusinessKassaSource extends CloudSource<BusinessKassaSourceConfig, BkTarget> {
  readonly type = 'businesskassa' as const;
  protected readonly targetHelp = 'a register eip (ip:port) or serial number';
  protected readonly fleetEndpoint = 'frs';
  protected override readonly lookupsNeedFleet = true;
  private readonly clock = new ClockWatch();
  /** The registers (eip) of each configured circuit (INN) at its last successful read. */
  private readonly circuitMembers = new Map<string, Set<string>>();
  /** The conflicting circuit entries last logged (reportConflicts), so that they are said once. */
  private circuitConflicts = '';

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

  protected async readFleet(ctx: FleetReadContext): Promise<SourceReading> {
    const started = performance.now();
    let items: unknown[];
    try {
      items = await this.client.fleet(ctx.signal);
      this.checkListed(items.length, 'GET /frs lists');
    } catch (err) {
      return this.withClock(this.failedListReading(ctx, started, err));
    }
    const mapped = items.map((raw) => this.map(raw, 'frs', ctx.log));
    // A malformed record leaves the list incomplete: registers it may have been stay reported down.
    const complete = mapped.every((r) => r?.up);
    const readings = this.roster.account(mapped, complete, this.fleetEndpoint);
    this.checkClock(readings, ctx.log);
    const circuitsOk = await this.addCircuits(readings, ctx.signal, ctx.log);
    return this.withClock(sourceReading(this.name, started, complete && circuitsOk, readings, !circuitsOk ? 'cannot read a fiscal circuit' : complete ? undefined : MALFORMED_RECORDS));
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
  private withClock(result: SourceReading): SourceReading {
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
    const activity = new CircuitActivity();
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
      const circuit = result.value.id ?? inn;
      const members = new Set<string>();
      for (const entry of result.value.frs) {
        members.add(entry.eip);
        const r = byEip.get(entry.eip);
        if (r) activity.add(r, circuit, entry);
      }
      this.circuitMembers.set(inn, members);
    });
    this.reportConflicts([...activity.conflicts], log);
    return ok;
  }

  /** Logs the registers a circuit lists as both active and not, when they change (not once per scrape). */
  private reportConflicts(conflicts: string[], log: Logger): void {
    const said = conflicts.join(' ');
    if (said === this.circuitConflicts) return;
    this.circuitConflicts = said;
    if (conflicts.length === 0) return;
    log.warn('a fiscal circuit lists a register more than once, active and not: reported inactive (kkt_circuit_active 0)', {
      registers: conflicts.length,
      first: conflicts.slice(0, MAX_LOGGED_CONFLICTS).join(' '),
    });
  }

  protected async readOne(ctx: ReadContext, target: BkTarget, kkt: string): Promise<SourceReading> {
    const started = performance.now();
    const eip = 'eip' in target ? target.eip : this.roster.detail(target.sn);
    if (!eip) return this.withClock(await this.readInFleet(ctx, started, kkt));
    try {
      const reading = this.map(await this.client.one(eip, ctx.deadline.signal), 'fr', ctx.log);
      if (!reading) ctx.log.detail().warn('register not found', { kkt });
      const result = reading ?? unreadReading(kkt, 'fr', 'register not found');
      return this.withClock(sourceReading(this.name, started, result.up, [result], result.error));
    } catch (err) {
      const error = `cannot read the register: ${errorMessage(err)}`;
      ctx.log.detail().warn('cannot read the register', { kkt, err: errorMessage(err) });
      return this.withClock(sourceReading(this.name, started, false, [unreadReading(kkt, 'fr', error)], error));
    }
  }

  /**
   * A serial the roster does not hold has no eip to ask for: it is looked for in a recent fleet read
   * (fleetForLookup), which every such target shares, never in a list call of its own.
   */
  private async readInFleet(ctx: ReadContext, started: number, kkt: string): Promise<SourceReading> {
    const fleet = await this.fleetForLookup(ctx);
    const found = fleet?.registers.find((r) => r.kkt === kkt);
    if (found) {
      // The fleet's reading is shared with the scrapes that read it: this probe gets its own copy.
      const reading = { ...found, samples: found.samples.filter((x) => x.metric !== 'kkt_trading'), endpoints: [...found.endpoints] };
      return sourceReading(this.name, started, reading.up, [reading], reading.error);
    }
    const unread = (error: string) => sourceReading(this.name, started, false, [unreadReading(kkt, this.fleetEndpoint, error)], error);
    if (fleet && fleet.sourceUp !== false) {
      ctx.log.detail().warn('register not found', { kkt });
      return unread('register not found');
    }
    const error = fleet ? (fleet.error ?? 'cannot read the register list') : 'the register list was still being read at the scrape deadline';
    ctx.log.detail().warn('cannot read the register', { kkt, err: error });
    return unread(error);
  }
}
