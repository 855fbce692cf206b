import type { IncomingMessage, ServerResponse } from 'node:http';
import { DateTime } from 'luxon';
import { stringify } from 'yaml';
import type { WrittenHours } from '../config/trading-hours.js';
import { ATOL_OVERSIZED_FIELDS, ATOL_PAGING_FAULTS, AtolSimulator, demoAtolFleet, oversizedAtolFleet, type AtolOversizedField, type AtolPagingFault, type AtolSimulatorOptions } from './atol.js';
import { demoK24Fleet, Kassa24Simulator, type K24RegisterControl, type Kassa24SimulatorOptions } from './kassa24.js';
import { BK_SESSION_COOKIE, BusinessKassaSimulator, demoBkFleet, type BkSimulatorOptions } from './businesskassa.js';
import { readBody, sendJson, SIM_FAULTS, SimServer, type SimFault } from './http.js';
import { FLEET_TIMEZONE, UkmSimulator, type UkmRegisterSpec, type UkmRegisterState } from './ukm.js';

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

/** `n` healthy registers for benchmarks and scale tests, half of them answering in JSON. */
export function generatedUkmFleet(n: number, prefix = 'pos'): UkmRegisterSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${String(i).padStart(5, '0')}`,
    format: i % 2 === 0 ? 'text' : 'json',
    state: { unsent: i % 7, userRoleId: i % 13, paper: i % 50 !== 0 },
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
    const ukm = await UkmSimulator.start(spec.ukm, { timezone: spec.timezone ?? FLEET_TIMEZONE });
    const atol = spec.atol ? await AtolSimulator.start(spec.atol) : undefined;
    const bk = spec.businesskassa ? await BusinessKassaSimulator.start(spec.businesskassa) : undefined;
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
    this.control = new SimServer((req, res) => this.route(req, res));
    await this.control.listen(host, port);
    return this.control.url;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (req.method === 'GET' && url.pathname === '/stats') return sendJson(res, 200, this.stats());
    if (req.method === 'GET' && url.pathname === '/ukm') {
      return sendJson(res, 200, this.ukm.registers.map((r) => ({ name: r.name, url: r.url, fault: r.fault ?? null, format: r.format, state: r.state, requests: r.requests })));
    }
    const m = /^\/ukm\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PATCH' && m) {
      const reg = this.ukm.get(decodeURIComponent(m[1] ?? ''));
      if (!reg) return sendJson(res, 404, { error: 'no such register' });
      const body = JSON.parse((await readBody(req)) || '{}') as { fault?: SimFault | null; state?: Partial<UkmRegisterState>; delay_ms?: number };
      if (body.delay_ms !== undefined) reg.server.delayMs = body.delay_ms;
      if (body.fault !== undefined) {
        if (body.fault !== null && !SIM_FAULTS.includes(body.fault)) return sendJson(res, 400, { error: `fault must be one of ${SIM_FAULTS.join(', ')} or null` });
        await reg.setFault(body.fault ?? undefined);
      }
      if (body.state) reg.state = { ...reg.state, ...body.state };
      return sendJson(res, 200, { name: reg.name, fault: reg.fault ?? null, delay_ms: reg.server.delayMs, state: reg.state });
    }
    if (req.method === 'PATCH' && url.pathname === '/faults') {
      const body = JSON.parse((await readBody(req)) || '{}') as { vendor?: string; register?: string; fault?: SimFault | null };
      const server = this.serverOf(body.vendor, body.register);
      if (!server) return sendJson(res, 404, { error: 'no such vendor or register' });
      if (body.fault !== null && body.fault !== undefined && !SIM_FAULTS.includes(body.fault)) return sendJson(res, 400, { error: `fault must be one of ${SIM_FAULTS.join(', ')} or null` });
      await server.setFault(body.fault ?? undefined);
      return sendJson(res, 200, { vendor: body.vendor, register: body.register, fault: server.fault ?? null });
    }
    if (req.method === 'PATCH' && url.pathname === '/atol' && this.atol) {
      const body = JSON.parse((await readBody(req)) || '{}') as {
        latency_ms?: number;
        failing_offsets?: number[];
        expire_tokens?: boolean;
        paging?: AtolPagingFault | null;
        oversized?: { registers: number; field?: AtolOversizedField; length: number };
      };
      if (body.paging !== undefined) {
        if (body.paging !== null && !ATOL_PAGING_FAULTS.includes(body.paging)) return sendJson(res, 400, { error: `paging must be one of ${ATOL_PAGING_FAULTS.join(', ')} or null` });
        this.atol.paging = body.paging ?? undefined;
      }
      if (body.latency_ms !== undefined) this.atol.latencyMs = body.latency_ms;
      if (body.failing_offsets) {
        this.atol.failingOffsets.clear();
        for (const o of body.failing_offsets) this.atol.failingOffsets.add(o);
      }
      if (body.expire_tokens) this.atol.expireTokens();
      if (body.oversized) {
        // The fleet becomes `registers` registers whose `field` (default serialNumber) is `length` characters long.
        const { registers, field = 'serialNumber', length } = body.oversized;
        if (!ATOL_OVERSIZED_FIELDS.includes(field)) return sendJson(res, 400, { error: `oversized.field must be one of ${ATOL_OVERSIZED_FIELDS.join(', ')}` });
        if (!Number.isSafeInteger(registers) || registers < 0 || !Number.isSafeInteger(length) || length < 0) return sendJson(res, 400, { error: 'oversized.registers and oversized.length must be whole numbers' });
        this.atol.registers = oversizedAtolFleet(registers, field, length);
      }
      return sendJson(res, 200, this.stats());
    }
    if (req.method === 'PATCH' && url.pathname === '/businesskassa' && this.businesskassa) {
      const body = JSON.parse((await readBody(req)) || '{}') as { clock_offset_hours?: number; circuit_fault?: number | null; circuit_repeats?: boolean };
      if (body.clock_offset_hours !== undefined) this.businesskassa.clockOffsetHours = body.clock_offset_hours;
      if (body.circuit_fault !== undefined) this.businesskassa.circuitFault = body.circuit_fault ?? undefined;
      if (body.circuit_repeats !== undefined) this.businesskassa.circuitRepeats = body.circuit_repeats;
      const bk = this.businesskassa;
      return sendJson(res, 200, { clock_offset_hours: bk.clockOffsetHours, circuit_fault: bk.circuitFault ?? null, circuit_repeats: bk.circuitRepeats, frs_calls: bk.fleetCalls });
    }
    if (req.method === 'PATCH' && url.pathname === '/kassa24' && this.kassa24) {
      const body = JSON.parse((await readBody(req)) || '{}') as { clock_offset_ms?: number; expire_tokens?: boolean } & Partial<K24RegisterControl>;
      // With `register`: that register's faults (blocked, shift_fault, offline_queue, xreport_refused, ...).
      const patched = body.register === undefined ? undefined : this.kassa24.control({ ...body, register: body.register });
      if (patched && !patched.ok) return sendJson(res, patched.status, { error: patched.error });
      if (body.clock_offset_ms !== undefined) this.kassa24.clockOffsetMs = body.clock_offset_ms;
      if (body.expire_tokens) this.kassa24.expireTokens();
      return sendJson(res, 200, { ...this.stats(), ...(patched ? { register: patched.register } : {}) });
    }
    sendJson(res, 404, { error: 'not found' });
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
