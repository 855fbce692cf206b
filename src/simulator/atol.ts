import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { clearableFields, wholeNumber } from './control.js';
import { readBody, sendJson, SimServer } from './http.js';

/**
 * One register's `data` as ATOL Online sends it (API v1.0, table 3). Without a `timestamp` it is a
 * live register: every answer says it reported just now.
 */
export type AtolRecord = Record<string, string | number | boolean | null | undefined> & { serialNumber: string };

/**
 * `PATCH /atol/registers/SERIAL` of the fleet's control API: any field of table 3 but the serial,
 * of its documented type; `null` removes it (the service does not report it; a `timestamp` of null:
 * the register is live again).
 */
export const atolRegisterControlSchema = z.strictObject(
  clearableFields({
    registrationNumber: z.string(),
    deviceNumber: z.string(),
    fiscalizationDate: z.string(),
    fiscalStorageExpiration: z.string(),
    signedDocuments: wholeNumber(0),
    fiscalStoragePercentageUse: z.number().min(0).max(100),
    fiscalStorageINN: z.string(),
    fiscalStorageSerialNumber: z.string(),
    fiscalStoragePaymentAddress: z.string(),
    groupCode: z.string(),
    timestamp: z.string(),
    isShiftOpened: z.boolean(),
    shiftNumber: wholeNumber(0),
    shiftReceipt: wholeNumber(0),
    unsentDocs: wholeNumber(0),
    firstUnsetDocTimestamp: z.string(),
    networkErrorCode: wholeNumber(0),
  }),
);

export interface AtolSimulatorOptions {
  login?: string;
  password?: string;
  registers: AtolRecord[];
  /** `expiresIn` the service reports, in minutes (1440 = 24 h, as documented). */
  expiresInMinutes?: number;
  /** Latency added to every page and register call. */
  latencyMs?: number;
}

/**
 * How the simulated service can get its paging wrong: `huge_total` states a total of a
 * billion; `negative_total` states -1; `inflated_total` states 50 more than it has; `capped_limit`
 * serves at most 10 per page whatever is asked (and says `limit: 10`); `self_next` answers every
 * offset with the first page, whose `next` points to itself; `endless` answers every offset with
 * fresh registers and a `next`. The last two state no total. `lying_limit` serves the
 * registers asked for but states `limit: 1`.
 */
export const ATOL_PAGING_FAULTS = ['huge_total', 'negative_total', 'inflated_total', 'capped_limit', 'self_next', 'endless', 'lying_limit'] as const;
export type AtolPagingFault = (typeof ATOL_PAGING_FAULTS)[number];

/** ATOL's documented default page size, the size `capped_limit` serves. */
const CAPPED_LIMIT = 10;

export interface AtolRequest {
  method: string;
  path: string;
}

const DAY = 86_400;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', '+00:00');

/** `n` live registers with varied, healthy values; serials 00107700000000 onwards (from the `first`th). */
export function generatedAtolFleet(n: number, now = Math.floor(Date.now() / 1000), first = 0): AtolRecord[] {
  return Array.from({ length: n }, (_, i) => generatedAtolRecord(first + i, now));
}

/** The `i`th register of a generated fleet. */
export function generatedAtolRecord(i: number, now = Math.floor(Date.now() / 1000)): AtolRecord {
  return {
    serialNumber: String(107700000000 + i).padStart(14, '0'),
    registrationNumber: String(3027865 + i).padStart(16, '0'),
    deviceNumber: `KKT${String(24219 + i).padStart(6, '0')}`,
    fiscalizationDate: iso(now - 200 * DAY),
    fiscalStorageExpiration: iso(now + (60 + (i % 300)) * DAY),
    signedDocuments: 1000 + i * 7,
    fiscalStoragePercentageUse: Math.round((10 + (i % 60) + (i % 7) / 10) * 100) / 100,
    fiscalStorageINN: '3026455760',
    fiscalStorageSerialNumber: String(9999078902004339n - BigInt(i)),
    fiscalStoragePaymentAddress: 'shop.example.ru',
    groupCode: 'shop-example-ru_14605',
    isShiftOpened: i % 3 !== 0,
    shiftNumber: 100 + (i % 50),
    shiftReceipt: i % 400,
    networkErrorCode: 0,
  };
}

/** The register fields `oversizedAtolFleet` can blow up: the id and identity labels. */
export const ATOL_OVERSIZED_FIELDS = ['serialNumber', 'deviceNumber', 'fiscalStoragePaymentAddress', 'groupCode'] as const;
export type AtolOversizedField = (typeof ATOL_OVERSIZED_FIELDS)[number];

/**
 * `n` generated registers whose `field` is `length` characters long (each still distinct: its
 * generated value, then padding), as a vendor bug or a hostile account could send them. Keep a
 * page under the client's 4 MiB cap with the exporter's `page_size`: a serial is sent three times
 * per record (the data and two links).
 */
export function oversizedAtolFleet(n: number, field: AtolOversizedField, length: number): AtolRecord[] {
  return generatedAtolFleet(n).map((r) => ({ ...r, [field]: String(r[field] ?? '').padEnd(length, 'X') }));
}

/**
 * The demo account: one register for each case the alerts page on (docs/alerts.md): an FN 85 % and
 * 95 % full, an FN expiring in 10 days, documents unsent for 5 days, an OFD network error, and a
 * register that has not reported for 2 hours.
 */
export function demoAtolFleet(now = Math.floor(Date.now() / 1000)): AtolRecord[] {
  const fleet = generatedAtolFleet(6, now);
  const set = (i: number, fields: Partial<AtolRecord>) => Object.assign(fleet[i] as AtolRecord, fields);
  set(0, { fiscalStoragePercentageUse: 85.34 });
  set(1, { fiscalStoragePercentageUse: 95.1 });
  set(2, { fiscalStorageExpiration: iso(now + 10 * DAY) });
  set(3, { unsentDocs: 1510, firstUnsetDocTimestamp: iso(now - 5 * DAY) });
  set(4, { networkErrorCode: 2, unsentDocs: 12, firstUnsetDocTimestamp: iso(now - 3600) });
  set(5, { timestamp: iso(now - 2 * 3600) }); // has not reported to ATOL for 2 hours
  return fleet;
}

/** A record as the service sends it now: a live register (no `timestamp` set) reported just now. */
export function served(record: AtolRecord): AtolRecord {
  return record.timestamp === undefined ? { ...record, timestamp: iso(Math.floor(Date.now() / 1000)) } : record;
}

function problem(res: ServerResponse, status: number, title: string, extra: Record<string, unknown> = {}): void {
  const types: Record<number, string> = { 400: 'rfc7231#section-6.5.1', 401: 'rfc7235#section-3.1', 403: 'rfc7231#section-6.5.3', 404: 'rfc7231#section-6.5.4', 500: 'rfc7231#section-6.6.1' };
  sendJson(res, status, { type: `https://tools.ietf.org/html/${types[status] ?? ''}`, title, status, traceId: Math.random().toString(16).slice(2), ...extra }, 'application/problem+json');
}

/** A simulated ATOL Online monitoring service: tokens, real paging, RFC 7807 errors, counters. */
export class AtolSimulator {
  readonly server = new SimServer((req, res) => this.handle(req, res));
  readonly requests: AtolRequest[] = [];
  authCalls = 0;
  pageCalls = 0;
  registerCalls = 0;
  /** Offsets whose page answers 500. */
  readonly failingOffsets = new Set<number>();
  latencyMs: number;
  registers: AtolRecord[];
  /** A paging misbehaviour, or undefined for honest paging. */
  paging: AtolPagingFault | undefined;
  private readonly tokens = new Map<string, boolean>();
  private expireAfterDataCalls: number | undefined;
  private tokenCounter = 0;

  constructor(private readonly opts: AtolSimulatorOptions) {
    this.registers = opts.registers;
    this.latencyMs = opts.latencyMs ?? 0;
    this.server.authError = () => ({
      status: 401,
      body: { type: 'https://tools.ietf.org/html/rfc7235#section-3.1', title: 'Переданный токен не активен', status: 401, detail: 'Переданный токен не активен', traceId: 'sim', errorCode: 'ExpiredToken' },
    });
  }

  static async start(opts: AtolSimulatorOptions): Promise<AtolSimulator> {
    const sim = new AtolSimulator(opts);
    await sim.server.listen();
    return sim;
  }

  get url(): string {
    return this.server.url;
  }

  get login(): string {
    return this.opts.login ?? 'shop-login';
  }

  get password(): string {
    return this.opts.password ?? 'shop-password';
  }

  /** Every token issued so far stops working now, or after `afterDataCalls` more data calls. */
  expireTokens(afterDataCalls = 0): void {
    if (afterDataCalls > 0) this.expireAfterDataCalls = afterDataCalls;
    else for (const t of this.tokens.keys()) this.tokens.set(t, false);
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  /** Applies a checked `PATCH /atol/registers/SERIAL`; the register as now served, or undefined for an unknown serial. */
  control(serial: string, fields: Record<string, string | number | boolean | null | undefined>): AtolRecord | undefined {
    const record = this.registers.find((r) => r.serialNumber === serial);
    if (!record) return undefined;
    for (const [key, value] of Object.entries(fields)) {
      if (value === null) delete record[key];
      else if (value !== undefined) record[key] = value;
    }
    return served(record);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search });
    if (url.pathname === '/api/auth/v1/gettoken') return this.auth(req, res, url);
    if (req.method !== 'GET') return problem(res, 404, 'Not Found');
    const one = /^\/api\/kkt\/v1\/cash-registers\/([^/]+)$/.exec(url.pathname);
    if (url.pathname !== '/api/kkt/v1/cash-registers' && !one) return problem(res, 404, 'Not Found');
    if (one) this.registerCalls++;
    else this.pageCalls++;
    if (!this.authorised(req, res)) return;
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    return one ? this.oneRegister(res, decodeURIComponent(one[1] ?? '')) : this.page(res, url);
  }

  private async auth(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.authCalls++;
    let login = url.searchParams.get('login');
    let pass = url.searchParams.get('pass');
    if (req.method === 'POST') {
      try {
        const body = JSON.parse(await readBody(req)) as { login?: string; pass?: string };
        login = body.login ?? null;
        pass = body.pass ?? null;
      } catch {
        return problem(res, 400, 'Ошибка валидации', { errors: { $: ['invalid JSON'] } });
      }
    }
    if (login !== this.login || pass !== this.password) {
      return problem(res, 401, 'Неверный логин или пароль', { detail: 'Неверный логин или пароль', errorCode: 'WrongLoginOrPassword', instance: url.pathname });
    }
    const token = `tok-${++this.tokenCounter}-${Math.random().toString(36).slice(2)}`;
    this.tokens.set(token, true);
    const issued = new Date(Date.now() + 3 * 3600_000).toISOString().replace('Z', '0000+03:00');
    sendJson(res, 200, { token, issued, expiresIn: this.opts.expiresInMinutes ?? 1440 });
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    const token = req.headers.token;
    if (typeof token !== 'string' || !this.tokens.has(token)) {
      problem(res, 401, 'Не распознан токен запроса', { detail: 'Не распознан токен запроса', errorCode: 'MissingToken' });
      return false;
    }
    if (this.expireAfterDataCalls !== undefined && --this.expireAfterDataCalls <= 0) {
      this.expireAfterDataCalls = undefined;
      this.expireTokens();
    }
    if (!this.tokens.get(token)) {
      problem(res, 401, 'Переданный токен не активен', { detail: 'Переданный токен не активен', errorCode: 'ExpiredToken' });
      return false;
    }
    return true;
  }

  private page(res: ServerResponse, url: URL): void {
    const limit = Number(url.searchParams.get('limit') ?? 10);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0) {
      return problem(res, 400, 'Ошибка валидации', { errors: { limit: ['limit must be 1..100'] } });
    }
    if (this.failingOffsets.has(offset)) return problem(res, 500, 'Ошибка сервера', { instance: url.pathname });
    const view = this.pageView(offset, limit);
    const base = `${this.url}/api/kkt/v1/cash-registers`;
    const link = (o: number) => ({ href: `${base}?offset=${o}&limit=${view.limit}`, rel: 'get-cash-registers', action: 'GET' });
    sendJson(res, 200, {
      _links: {
        ...(view.next !== undefined ? { next: link(view.next) } : {}),
        ...(view.offset > 0 ? { prev: link(Math.max(0, view.offset - view.limit)) } : {}),
      },
      _embedded: view.records.map(served).map((data) => {
        const self = { href: `${base}/${data.serialNumber}`, rel: 'get-cash-register', action: 'GET' };
        return { _links: { self, 'get-cash-register': self }, data };
      }),
      ...(view.total !== undefined ? { total: view.total } : {}),
      limit: view.limit,
      offset: view.offset,
    }, 'application/hal+json');
  }

  /** What the page at `offset` holds and states, honest or as `paging` gets it wrong. */
  private pageView(offset: number, limit: number): { records: AtolRecord[]; offset: number; limit: number; next?: number; total?: number } {
    const honest = (at: number, size: number) => ({
      records: this.registers.slice(at, at + size),
      offset: at,
      limit: size,
      ...(at + size < this.registers.length ? { next: at + size } : {}),
      total: this.registers.length,
    });
    switch (this.paging) {
      case undefined:
        return honest(offset, limit);
      case 'huge_total':
        return { ...honest(offset, limit), total: 1_000_000_000 };
      case 'negative_total':
        return { ...honest(offset, limit), total: -1 };
      case 'inflated_total':
        return { ...honest(offset, limit), total: this.registers.length + 50 };
      case 'capped_limit':
        return honest(offset, Math.min(limit, CAPPED_LIMIT));
      case 'self_next':
        return { records: this.registers.slice(0, limit), offset: 0, limit, next: 0 };
      case 'endless':
        return { records: Array.from({ length: limit }, (_, i) => generatedAtolRecord(offset + i)), offset, limit, next: offset + limit };
      case 'lying_limit':
        return { ...honest(offset, limit), limit: 1 };
    }
  }

  private oneRegister(res: ServerResponse, serial: string): void {
    const data = this.registers.find((r) => r.serialNumber === serial);
    if (!data) return problem(res, 404, 'Not Found', { instance: `/api/kkt/v1/cash-registers/${serial}` });
    const self = { href: `${this.url}/api/kkt/v1/cash-registers/${serial}`, rel: 'get-cash-register', action: 'GET' };
    sendJson(res, 200, { _links: { self, 'get-cash-register': self }, data: served(data) }, 'application/hal+json');
  }
}
