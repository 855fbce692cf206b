import { DateTime } from 'luxon';
import { stringify } from 'yaml';
import type { WrittenHours } from '../config/trading-hours.js';
import { AtolSimulator, demoAtolFleet, type AtolSimulatorOptions } from './atol.js';
import { BK_SESSION_COOKIE, BusinessKassaSimulator, demoBkFleet, type BkSimulatorOptions } from './businesskassa.js';
import { routeControl } from './control-api.js';
import { SimServer } from './http.js';
import { demoK24Fleet, Kassa24Simulator, type Kassa24SimulatorOptions } from './kassa24.js';
import { FLEET_TIMEZONE, UkmSimulator, type UkmRegisterSpec } from './ukm.js';

export interface FleetSpec {
  timezone?: string;
  ukm: UkmRegisterSpec[];
  atol?: AtolSimulatorOptions;
  businesskassa?: BkSimulatorOptions;
  kassa24?: Kassa24SimulatorOptions;
  /** `trading_hours` for the exporter config: by source name, and by UKM register name. */
  tradingHours?: { sources?: Record<string, WrittenHours>; registers?: Record<string, WrittenHours> };
}

const DEMO_STORES = [
  { store: '012', city: 'msk', registers: 4 },
  { store: '047', city: 'msk', registers: 4 },
  { store: '101', city: 'spb', registers: 4 },
  { store: '205', city: 'kzn', registers: 3 },
];

/** Every moment of every day: the demo's open stores page the same at any hour. */
export const ALWAYS_OPEN: WrittenHours = { 'mon-sun': '00:00-24:00' };

/**
 * Daily hours on `zone`'s clock that open `opensInHours` from `now` (negative: that long ago) and
 * last `lengthHours`: hours that are open, or closed, at the moment whatever the time of day.
 */
export function dailyHoursFromNow(zone: string, opensInHours: number, lengthHours = 12, now = new Date()): WrittenHours {
  const opens = DateTime.fromJSDate(now, { zone }).plus({ hours: opensInHours });
  return { 'mon-sun': `${opens.toFormat('HH:mm')}-${opens.plus({ hours: lengthHours }).toFormat('HH:mm')}` };
}

/** Store 101 is closed at the demo's start: it opens two hours later, for twelve hours. */
const DEMO_CLOSED_STORE = { store: '101', opensInHours: 2 };

/**
 * Four stores, with the faults worth seeing: no paper, unsent receipts, an open receipt, a dead register
 * in a store that is closed now (so it does not page), and a store whose every register is off (one
 * store alert). Every other store and source trades around the clock.
 */
export function demoFleet(): FleetSpec {
  const now = Math.floor(Date.now() / 1000);
  const ukm: UkmRegisterSpec[] = DEMO_STORES.flatMap(({ store, city, registers }, s) =>
    Array.from({ length: registers }, (_, p) => ({
      name: `${city}-${store}-pos0${p + 1}`,
      labels: { store, city },
      format: (s + p) % 2 === 0 ? ('text' as const) : ('json' as const),
      state: { userRoleId: 101 + p, weight: 0 },
    })),
  );
  const patch = (name: string, spec: Partial<UkmRegisterSpec>): void => {
    const r = ukm.find((x) => x.name === name);
    if (r) Object.assign(r, spec, { state: { ...r.state, ...spec.state } });
  };
  patch('msk-012-pos02', { state: { paper: false } });
  patch('msk-047-pos01', { state: { unsent: 17 } });
  patch('spb-101-pos03', { state: { receiptOpen: true, lastActivity: now - 95 } });
  patch('spb-101-pos04', { fault: 'refused' });
  patch('msk-047-pos03', { state: { vision: false, weight: 1.25 } });
  for (const r of ukm) if (r.labels?.store === '205') r.fault = 'refused';
  const closed = dailyHoursFromNow('Europe/Moscow', DEMO_CLOSED_STORE.opensInHours);
  const registers = Object.fromEntries(ukm.filter((r) => r.labels?.store === DEMO_CLOSED_STORE.store).map((r) => [r.name, closed]));
  const bk = demoBkFleet();
  const circuit = { id: 5346, inn: '770900467024', title: 'Demo chain', frs: bk.map((r, i) => ({ eip: r.eip, type: i === 0 ? 'terminalfa' : 'pkfa12', is_active: i === 1 ? (0 as const) : (1 as const) })) };
  return {
    ukm,
    atol: { registers: demoAtolFleet() },
    businesskassa: { registers: bk, circuits: [circuit] },
    kassa24: { registers: demoK24Fleet() },
    tradingHours: { sources: { stores: ALWAYS_OPEN, 'atol-cloud': ALWAYS_OPEN, bk: ALWAYS_OPEN, kz: ALWAYS_OPEN }, registers },
  };
}

/**
 * `n` healthy registers (paper in, nothing unsent, no receipt open) for benchmarks, scale tests and
 * rehearsals, half of them answering in JSON; with `timezones`, dealt over those zones in turn.
 */
export function generatedUkmFleet(n: number, prefix = 'pos', timezones: readonly string[] = []): UkmRegisterSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${String(i).padStart(5, '0')}`,
    format: i % 2 === 0 ? 'text' : 'json',
    state: { userRoleId: i % 13 },
    ...(timezones.length ? { timezone: timezones[i % timezones.length] } : {}),
  }));
}

/**
 * The simulated vendors of a whole chain, plus a small JSON control API on loopback that tests,
 * benchmarks and the end-to-end run use to read counters and switch faults on and off.
 */
export class SimulatedFleet {
  private control: SimServer | undefined;

  private constructor(
    readonly spec: FleetSpec,
    readonly ukm: UkmSimulator,
    readonly atol: AtolSimulator | undefined,
    readonly businesskassa: BusinessKassaSimulator | undefined,
    readonly kassa24: Kassa24Simulator | undefined,
  ) {}

  static async start(spec: FleetSpec): Promise<SimulatedFleet> {
    const timezone = spec.timezone ?? FLEET_TIMEZONE;
    const ukm = await UkmSimulator.start(spec.ukm, { timezone });
    const atol = spec.atol ? await AtolSimulator.start(spec.atol) : undefined;
    // The service writes its times on the clock of the zone the exporter config says it is in.
    const bk = spec.businesskassa ? await BusinessKassaSimulator.start({ timezone, ...spec.businesskassa }) : undefined;
    const k24 = spec.kassa24 ? await Kassa24Simulator.start(spec.kassa24) : undefined;
    return new SimulatedFleet(spec, ukm, atol, bk, k24);
  }

  private get timezone(): string {
    return this.spec.timezone ?? FLEET_TIMEZONE;
  }

  /** An exporter config (as YAML) that monitors this fleet. */
  exporterConfig(overrides: { ukmEndpoints?: string[]; sourceName?: string } = {}): string {
    const sources: object[] = [];
    const hours = this.spec.tradingHours;
    const withHours = <S extends { name: string }>(source: S) => ({ ...source, ...(hours?.sources?.[source.name] ? { trading_hours: hours.sources[source.name] } : {}) });
    if (this.ukm.registers.length > 0) {
      sources.push(withHours({
        name: overrides.sourceName ?? 'stores',
        type: 'ukm',
        ...(overrides.ukmEndpoints ? { endpoints: overrides.ukmEndpoints } : {}),
        min_interval: '1s',
        allowed_targets: ['127.0.0.0/8'],
        registers: this.ukm.registers.map((r) => ({
          name: r.name,
          url: r.url,
          ...(Object.keys(r.labels).length ? { labels: r.labels } : {}),
          ...(r.timezone !== this.timezone ? { timezone: r.timezone } : {}),
          ...(hours?.registers?.[r.name] ? { trading_hours: hours.registers[r.name] } : {}),
        })),
      }));
    }
    if (this.atol) {
      sources.push(withHours({ name: 'atol-cloud', type: 'atol', url: this.atol.url, login: this.atol.login, password: this.atol.password }));
    }
    if (this.businesskassa) {
      const circuits = this.spec.businesskassa?.circuits?.map((c) => c.inn) ?? [];
      sources.push(withHours({ name: 'bk', type: 'businesskassa', url: this.businesskassa.url, auth: { cookie: BK_SESSION_COOKIE }, ...(circuits.length ? { circuits } : {}) }));
    }
    if (this.kassa24) {
      sources.push(withHours({ name: 'kz', type: 'kassa24', url: this.kassa24.url, login: this.kassa24.login, password: this.kassa24.password }));
    }
    return stringify({ global: { timezone: this.timezone, scrape_timeout: '10s' }, sources });
  }

  stats(): object {
    const violations = this.ukm.violations;
    return {
      ukm: { registers: this.ukm.registers.length, requests: this.ukm.requests, violations: violations.length, violation_samples: violations.slice(0, 20) },
      ...(this.atol
        ? { atol: { registers: this.atol.registers.length, auth_calls: this.atol.authCalls, page_calls: this.atol.pageCalls, register_calls: this.atol.registerCalls, paging: this.atol.paging ?? null } }
        : {}),
      ...(this.kassa24 ? { kassa24: { registers: this.kassa24.registers.length, auth_calls: this.kassa24.authCalls, xreports: this.kassa24.xreportsTaken, requests: this.kassa24.requests.length } } : {}),
      ...(this.businesskassa ? { businesskassa: { registers: this.businesskassa.registers.length, requests: this.businesskassa.requests.length, frs_calls: this.businesskassa.fleetCalls, write_calls: this.businesskassa.writeCalls } } : {}),
    };
  }

  async startControl(port = 0, host = '127.0.0.1'): Promise<string> {
    this.control = new SimServer((req, res) => routeControl(this, req, res));
    await this.control.listen(host, port);
    return this.control.url;
  }

  /** The server of a vendor (or of one UKM register), for switching its faults. */
  serverOf(vendor: string | undefined, register?: string): SimServer | undefined {
    switch (vendor) {
      case 'ukm':
        return register ? this.ukm.get(register)?.server : undefined;
      case 'atol':
        return this.atol?.server;
      case 'businesskassa':
        return this.businesskassa?.server;
      case 'kassa24':
        return this.kassa24?.server;
      default:
        return undefined;
    }
  }

  async stop(): Promise<void> {
    await this.control?.close();
    await Promise.all([this.ukm.stop(), this.atol?.stop(), this.businesskassa?.stop(), this.kassa24?.stop()]);
  }
}
