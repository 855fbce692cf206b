import type { IncomingMessage, ServerResponse } from 'node:http';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { wholeNumber } from './control.js';
import { sendJson, SimServer } from './http.js';

/** One register as `GET /frs` lists it; without a `timestamp` it is live: every answer says "now". */
export interface BkRecord {
  eip: string;
  sn: string;
  timestamp?: string;
  mcu_temperature: number;
  fs: {
    inn: string;
    rnm: string;
    phase: number;
    sn: string;
    flags: number;
    shift_is_open: boolean;
    ofd: { number: number; fd_first: number; fd_first_timestamp: string };
    mode: number;
    tax_system: number;
    agent: number;
    current_document: number;
  };
}

/**
 * `PATCH /businesskassa/registers/SN` of the fleet's control API: any field but the address and
 * serial, nested as the service sends it (`{"fs": {"phase": 7}}`); a `timestamp` of null makes the
 * register live again.
 */
export const bkRegisterControlSchema = z.strictObject({
  timestamp: z.string().nullable().optional(),
  mcu_temperature: z.number().optional(),
  fs: z
    .strictObject({
      inn: z.string(),
      rnm: z.string(),
      phase: wholeNumber(0, 255),
      sn: z.string(),
      flags: wholeNumber(0, 255),
      shift_is_open: z.boolean(),
      ofd: z.strictObject({ number: wholeNumber(0), fd_first: wholeNumber(0), fd_first_timestamp: z.string() }).partial(),
      mode: wholeNumber(0, 255),
      tax_system: wholeNumber(0, 255),
      agent: wholeNumber(0, 255),
      current_document: wholeNumber(0),
    })
    .partial()
    .optional(),
});
export type BkRegisterControl = z.output<typeof bkRegisterControlSchema>;

/** The credentials the simulated service accepts; any other request gets 401 "session expired". */
export type BkAuth = { cookie: string } | { bearer: string } | { basic: { username: string; password: string } } | { header: { name: string; value: string } };

/** A fiscal circuit as `GET /fcircuit/:inn` answers it. */
export interface BkCircuitSpec {
  id: number;
  inn: string;
  title: string;
  frs: Array<{ eip: string; type: string; is_active: 0 | 1 }>;
}

export interface BkSimulatorOptions {
  registers: BkRecord[];
  auth?: BkAuth;
  /** Path prefix, as the hosted service's `/v1`. */
  prefix?: string;
  timezone?: string;
  circuits?: BkCircuitSpec[];
  /** Where a circuit is served, `{inn}` standing for its INN (the exporter's `circuit_path`). */
  circuitPath?: string;
}

/** A `dd.MM.yyyy HH:mm` time moved by `hours`, as a service in another zone would write it; other values as they are. */
function shiftedTime(text: string, hours: number): string {
  const t = DateTime.fromFormat(text, 'dd.MM.yyyy HH:mm', { zone: 'UTC' });
  return t.isValid ? t.plus({ hours }).toFormat('dd.MM.yyyy HH:mm') : text;
}

export const BK_SESSION_COOKIE = 'bkapisessionid=demo-session-7f3a9c';

/** The service's own time format, `dd.MM.yyyy HH:mm`, with no zone. */
export function bkTime(seconds: number, zone = 'Europe/Moscow'): string {
  return DateTime.fromSeconds(seconds, { zone }).toFormat('dd.MM.yyyy HH:mm');
}

/** `n` live, healthy registers in fiscal mode (from the `first`th), addressed 10.55.15.x:10515. */
export function generatedBkFleet(n: number, first = 0): BkRecord[] {
  return Array.from({ length: n }, (_, j) => j + first).map((i) => ({
    eip: `10.55.${15 + Math.floor(i / 250)}.${(i % 250) + 1}:10515`,
    sn: String(2000004581 + i),
    mcu_temperature: 40 + (i % 8),
    fs: {
      inn: '770900467024',
      rnm: String(8287390020208 + i * 17).padStart(16, '0'),
      phase: 3,
      sn: String(7381440800357213n + BigInt(i)),
      flags: 0,
      shift_is_open: i % 2 === 0,
      ofd: { number: 0, fd_first: 0, fd_first_timestamp: 'Invalid date' },
      mode: 4,
      tax_system: 2,
      agent: 0,
      current_document: 0,
    },
  }));
}

/** One fiscal circuit holding every register of `fleet`, all active. */
export function generatedBkCircuit(fleet: BkRecord[], inn = '770900467024'): BkCircuitSpec {
  return { id: 1, inn, title: 'Generated chain', frs: fleet.map((r) => ({ eip: r.eip, type: 'pkfa12', is_active: 1 as const })) };
}

/** The demo's registers: one post-fiscal, one with a hot MCU, one with unsent documents, one FN to replace urgently. */
export function demoBkFleet(now = Math.floor(Date.now() / 1000)): BkRecord[] {
  const fleet = generatedBkFleet(5);
  const [, postFiscal, hot, unsent, ending] = fleet as [BkRecord, BkRecord, BkRecord, BkRecord, BkRecord];
  postFiscal.fs.phase = 7;
  postFiscal.fs.shift_is_open = false;
  hot.mcu_temperature = 78;
  unsent.fs.ofd = { number: 23, fd_first: 10412, fd_first_timestamp: bkTime(now - 2 * 86_400) };
  ending.fs.flags = 0x01 | 0x02; // 3 days left: urgent replacement (pages critical), resource running out
  return fleet;
}

/** A simulated BusinessKassa service: `GET /frs`, `/frs/:eip`, `/fcircuit/:inn`, behind a credential. */
export class BusinessKassaSimulator {
  readonly server = new SimServer((req, res) => this.handle(req, res));
  readonly requests: Array<{ method: string; path: string }> = [];
  registers: BkRecord[];
  auth: BkAuth;
  /** Serves every time this many hours off, as if the service ran in another zone than the exporter is told. */
  clockOffsetHours = 0;
  /** When set, the circuit call answers this HTTP status. */
  circuitFault: number | undefined;
  /** `GET /frs` calls answered: whole-fleet reads. */
  fleetCalls = 0;
  /** Every circuit lists each of its registers twice, the repeat with `is_active` flipped. */
  circuitRepeats = false;
  private readonly circuitRe: RegExp;

  constructor(private readonly opts: BkSimulatorOptions) {
    this.registers = opts.registers;
    const [before, after] = (opts.circuitPath ?? '/fcircuit/{inn}').split('{inn}').map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
    this.circuitRe = new RegExp(`^${before}([^/]+)${after ?? ''}$`);
    this.auth = opts.auth ?? { cookie: BK_SESSION_COOKIE };
    this.server.authError = () => ({ status: 401, body: { error: 'session expired' } });
  }

  static async start(opts: BkSimulatorOptions): Promise<BusinessKassaSimulator> {
    const sim = new BusinessKassaSimulator(opts);
    await sim.server.listen();
    return sim;
  }

  get prefix(): string {
    return this.opts.prefix ?? '/v1';
  }

  /** The base URL the exporter is configured with. */
  get url(): string {
    return `${this.server.url}${this.prefix}`;
  }

  /** Calls other than GET: the exporter must never make one. */
  get writeCalls(): number {
    return this.requests.filter((r) => r.method !== 'GET').length;
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  /** Applies a checked `PATCH /businesskassa/registers/SN`; the register as now served, or undefined for an unknown serial. */
  control(sn: string, body: BkRegisterControl): BkRecord | undefined {
    const r = this.registers.find((x) => x.sn === sn);
    if (!r) return undefined;
    if (body.timestamp !== undefined) r.timestamp = body.timestamp ?? undefined;
    if (body.mcu_temperature !== undefined) r.mcu_temperature = body.mcu_temperature;
    const { ofd, ...fs } = body.fs ?? {};
    r.fs = { ...r.fs, ...fs, ofd: { ...r.fs.ofd, ...ofd } };
    return this.served(r);
  }

  /** A record as served: a live one's `timestamp` now, on the service's clock; its times moved by `clockOffsetHours`. */
  served(record: BkRecord): BkRecord {
    const r = record.timestamp === undefined ? { ...record, timestamp: bkTime(Date.now() / 1000, this.opts.timezone) } : record;
    if (this.clockOffsetHours === 0 || typeof r.timestamp !== 'string') return r;
    const ofd = r.fs?.ofd;
    return {
      ...r,
      timestamp: shiftedTime(r.timestamp, this.clockOffsetHours),
      ...(ofd ? { fs: { ...r.fs, ofd: { ...ofd, fd_first_timestamp: shiftedTime(ofd.fd_first_timestamp, this.clockOffsetHours) } } } : {}),
    };
  }

  /** A circuit as served: with `circuitRepeats`, each register again after the others, active and not the other way round. */
  private servedCircuit(c: BkCircuitSpec): BkCircuitSpec {
    if (!this.circuitRepeats) return c;
    return { ...c, frs: [...c.frs, ...c.frs.map((entry) => ({ ...entry, is_active: entry.is_active ? (0 as const) : (1 as const) }))] };
  }

  private authorised(req: IncomingMessage): boolean {
    const a = this.auth;
    if ('cookie' in a) return (req.headers.cookie ?? '').split(/;\s*/).includes(a.cookie);
    if ('bearer' in a) return req.headers.authorization === `Bearer ${a.bearer}`;
    if ('basic' in a) return req.headers.authorization === `Basic ${Buffer.from(`${a.basic.username}:${a.basic.password}`).toString('base64')}`;
    return req.headers[a.header.name.toLowerCase()] === a.header.value;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    this.requests.push({ method: req.method ?? '', path: decodeURIComponent(url.pathname) });
    if (!url.pathname.startsWith(`${this.prefix}/`)) return sendJson(res, 404, { error: 'not found' });
    if (!this.authorised(req)) return sendJson(res, 401, { error: 'session expired' });
    const path = url.pathname.slice(this.prefix.length);
    if (req.method !== 'GET') return sendJson(res, 200, { ok: true }); // management calls: accepted, and counted
    if (path === '/frs') {
      this.fleetCalls++;
      return sendJson(res, 200, this.registers.map((r) => this.served(r)));
    }
    const one = /^\/frs\/([^/]+)$/.exec(path);
    if (one) {
      const r = this.registers.find((x) => x.eip === decodeURIComponent(one[1] ?? ''));
      return r ? sendJson(res, 200, this.served(r)) : sendJson(res, 404, { error: 'register not found' });
    }
    const circuit = this.circuitRe.exec(path);
    if (circuit) {
      if (this.circuitFault !== undefined) return sendJson(res, this.circuitFault, { error: 'circuit service unavailable' });
      const c = this.opts.circuits?.find((x) => x.inn === decodeURIComponent(circuit[1] ?? ''));
      return c ? sendJson(res, 200, { ...this.servedCircuit(c), integrations: [] }) : sendJson(res, 404, { error: 'circuit not found' });
    }
    sendJson(res, 404, { error: 'not found' });
  }
}
