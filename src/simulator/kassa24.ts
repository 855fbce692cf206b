import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { unixSeconds, wholeNumber } from './control.js';
import { readBody, sendJson, SimServer } from './http.js';

export interface K24ShiftState {
  id: number;
  index: number;
  open: boolean;
  /** Unix seconds. */
  openedAt: number;
  closedAt?: number;
  balanceOpen: number;
  salesQty: number;
  salesAmount: number;
  /** X-reports of this shift answer 403, as for a login that is not the cashier who opened it. */
  xreportRefused?: boolean;
}

/** Which call of a register answers 403 "Forbidden: касса заблокирована". */
export const K24_BLOCKED_AT = ['kkm', 'shift', 'xreport'] as const;
export type K24BlockedAt = (typeof K24_BLOCKED_AT)[number];

export interface K24RegisterState {
  id: number;
  name: string;
  znm: string;
  rnm: string;
  shift?: K24ShiftState;
  /** This call answers 403 "the register is blocked" (`GET /kkms/:id`, `GET /shifts/:id` or the X-report). */
  blocked?: K24BlockedAt;
  /** `GET /shifts/:id` of this register answers this HTTP status (e.g. 500) instead of the shift. */
  shiftFault?: number;
  /** Answers HTTP 200 with a non-200 Status inside the envelope. */
  envelopeError?: boolean;
  /** Fields of the backend's register model that the document does not show; sent only when set. */
  offlineQueue?: number;
  registerStatus?: number;
  lock?: boolean;
  ofdCode?: string;
}

/**
 * The register's current shift as `PATCH /kassa24/registers/ID {"shift": {...}}` sets it: a new
 * `index` starts a new shift (a new id); `open: false` closes it now unless `closed_at` says when.
 */
const shiftControlSchema = z
  .strictObject({
    index: wholeNumber(1),
    open: z.boolean(),
    opened_at: unixSeconds,
    closed_at: unixSeconds,
    balance_open: z.number(),
    sales_qty: wholeNumber(0),
    sales_amount: z.number(),
  })
  .partial();

/** One register's keys of the fleet's control API; null clears a fault (or the shift), absent keeps it. */
export const k24RegisterControlSchema = z.strictObject({
  blocked: z.enum(K24_BLOCKED_AT).nullable().optional(),
  /** The HTTP status `GET /shifts/:id` answers instead of the shift. */
  shift_fault: wholeNumber(400, 599).nullable().optional(),
  offline_queue: wholeNumber(0).nullable().optional(),
  /** The current shift's X-reports answer 403 "Указан неверный идентификатор смены" (the wrong cashier). */
  xreport_refused: z.boolean().optional(),
  status_kkm: wholeNumber(0).nullable().optional(),
  lock: z.boolean().nullable().optional(),
  ofd_code: z.string().nullable().optional(),
  shift: shiftControlSchema.nullable().optional(),
});

/** `PATCH /kassa24`: the service's clock and tokens, and with `register`, that register's keys. */
export const k24ControlSchema = k24RegisterControlSchema.extend({
  register: wholeNumber(0).optional(),
  clock_offset_ms: z.number().int().optional(),
  expire_tokens: z.boolean().optional(),
});

export type K24RegisterControl = { register: number } & z.input<typeof k24RegisterControlSchema>;

export interface Kassa24SimulatorOptions {
  login?: string;
  password?: string;
  registers: K24RegisterState[];
  /** Lifetime of the JWTs the service issues (their `exp`). */
  tokenLifetimeMs?: number;
  /** How far the service's clock is ahead of ours (negative: behind); its tokens' `iat` and `exp` follow it. */
  clockOffsetMs?: number;
}

const HOUR = 3600;
const ZERO_TIME = '0001-01-01T00:00:00Z';
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

function shiftFor(id: number, index: number, openedHoursAgo: number, open: boolean, now: number, closedHoursAgo?: number): K24ShiftState {
  return {
    id: id * 100 + index,
    index,
    open,
    openedAt: now - openedHoursAgo * HOUR,
    closedAt: open ? undefined : now - (closedHoursAgo ?? 1) * HOUR,
    balanceOpen: 50_000 + (id % 1000) * 10,
    salesQty: 10 + (id % 40),
    salesAmount: Math.round((12_500.5 + (id % 1000) * 3.25) * 100) / 100,
  };
}

/** `n` registers (from the `first`th) with shifts opened 1 to 8 hours ago. */
export function generatedK24Fleet(n: number, now = Math.floor(Date.now() / 1000), first = 0): K24RegisterState[] {
  return Array.from({ length: n }, (_, j) => {
    const i = first + j;
    const id = 70_000 + i;
    return { id, name: `Касса ${i + 1}`, znm: `SWK${String(id).padStart(8, '0')}`, rnm: String(600_300_000_000 + id), shift: shiftFor(id, 5 + (i % 20), 1 + (i % 8), true, now) };
  });
}

/** The demo's registers: a normal open shift, one open 23.5 h (expires in 30 min), one closed, one expired. */
export function demoK24Fleet(now = Math.floor(Date.now() / 1000)): K24RegisterState[] {
  const fleet = generatedK24Fleet(4, now);
  const [, nearly, closed, expired] = fleet as [K24RegisterState, K24RegisterState, K24RegisterState, K24RegisterState];
  nearly.shift = shiftFor(nearly.id, 41, 23.5, true, now);
  closed.shift = shiftFor(closed.id, 17, 10, false, now, 2);
  expired.shift = shiftFor(expired.id, 9, 27, true, now);
  // 70001 works offline because the OFD is unavailable (OfdCode 254): it keeps 4 documents.
  Object.assign(fleet[0] as K24RegisterState, { offlineQueue: 0, registerStatus: 1, lock: false, ofdCode: '0' });
  Object.assign(nearly, { offlineQueue: 4, registerStatus: 1, lock: false, ofdCode: '254' });
  return fleet;
}

function envelope(res: ServerResponse, httpStatus: number, status: number, message: string, data: unknown = null): void {
  sendJson(res, httpStatus, { Status: status, Message: message, Data: data });
}

const BLOCKED = 'Forbidden: касса заблокирована';
const WRONG_SHIFT = 'Указан неверный идентификатор смены';

/** A simulated Kassa24 (Fiscal24) API: JWT login, registers, shifts, X-reports; write calls recorded. */
export class Kassa24Simulator {
  readonly server = new SimServer((req, res) => this.handle(req, res));
  readonly requests: Array<{ method: string; path: string }> = [];
  readonly xreports = new Map<number, number>();
  authCalls = 0;
  registers: K24RegisterState[];
  clockOffsetMs: number;
  private revokedBefore = 0;

  constructor(private readonly opts: Kassa24SimulatorOptions) {
    this.registers = opts.registers;
    this.clockOffsetMs = opts.clockOffsetMs ?? 0;
    this.server.authError = () => ({ status: 401, body: { Status: 401, Message: 'Unauthorized: token is expired by 2h36m46s', Data: null } });
  }

  static async start(opts: Kassa24SimulatorOptions): Promise<Kassa24Simulator> {
    const sim = new Kassa24Simulator(opts);
    await sim.server.listen();
    return sim;
  }

  get url(): string {
    return this.server.url;
  }

  get login(): string {
    return this.opts.login ?? '77001234567';
  }

  get password(): string {
    return this.opts.password ?? 'kassa24-password';
  }

  get xreportsTaken(): number {
    return [...this.xreports.values()].reduce((a, b) => a + b, 0);
  }

  /** Every token issued so far is now expired. */
  expireTokens(): void {
    this.revokedBefore = Date.now() + 1;
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  private now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  private issue(): string {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const iat = this.now();
    return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: this.login, iat: iat / 1000, exp: (iat + (this.opts.tokenLifetimeMs ?? 24 * 3600_000)) / 1000 })}.c2lt`;
  }

  /** The token's problem, or undefined when it is good. */
  private tokenProblem(req: IncomingMessage): string | undefined {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return 'Unauthorized: no token';
    try {
      const claims = JSON.parse(Buffer.from(m[1]?.split('.')[1] ?? '', 'base64url').toString()) as { iat: number; exp: number };
      const now = this.now();
      const expiredBy = now - Math.min(claims.exp * 1000, claims.iat * 1000 < this.revokedBefore + this.clockOffsetMs ? now - 1 : Infinity);
      return expiredBy > 0 ? `Unauthorized: token is expired by ${Math.ceil(expiredBy / 1000)}s` : undefined;
    } catch {
      return 'Unauthorized: malformed token';
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const method = req.method ?? '';
    this.requests.push({ method, path });
    if (method === 'POST' && path === '/auth') return this.auth(req, res);
    const problem = this.tokenProblem(req);
    if (problem) return envelope(res, 401, 401, problem);
    if (method === 'GET' && path === '/kkms') {
      return envelope(res, 200, 200, 'OK', { Kkms: this.registers.map((r) => this.register(r)) });
    }
    const register = /^\/kkms\/(\d+)$/.exec(path);
    if (method === 'GET' && register) {
      const r = this.registers.find((x) => x.id === Number(register[1]));
      if (!r) return envelope(res, 403, 403, 'Forbidden: Доступ к указанному ресурсу закрыт.');
      if (r.blocked === 'kkm') return envelope(res, 403, 403, BLOCKED);
      if (r.envelopeError) return envelope(res, 200, 500, 'Internal Server Error');
      return envelope(res, 200, 200, 'OK', { Kkm: this.register(r) });
    }
    const shift = /^\/shifts\/(\d+)(\/x|\/sections\/reports|\/z)?$/.exec(path);
    const owner = shift ? this.registers.find((r) => r.shift?.id === Number(shift[1])) : undefined;
    if (shift && owner?.shift) {
      const s = owner.shift;
      if (method === 'GET' && !shift[2]) {
        if (owner.blocked === 'shift') return envelope(res, 403, 403, BLOCKED);
        if (owner.shiftFault) return envelope(res, owner.shiftFault, owner.shiftFault, 'Internal Server Error');
        return envelope(res, 200, 200, 'OK', this.shift(owner, s));
      }
      if (method === 'POST' && shift[2] === '/x') {
        if (owner.blocked === 'xreport') return envelope(res, 403, 403, BLOCKED);
        if (!s.open) return envelope(res, 410, 410, 'Данная смена уже закрыта');
        if (s.xreportRefused) return envelope(res, 403, 403, WRONG_SHIFT);
        this.xreports.set(owner.id, (this.xreports.get(owner.id) ?? 0) + 1);
        return envelope(res, 200, 200, 'OK', this.xreport(s));
      }
    }
    // Anything else, writes included (open shift, Z-report): refused, and on the request log.
    envelope(res, 403, 403, 'Forbidden: Доступ к указанному ресурсу закрыт.');
  }

  /** Applies a checked register control (`PATCH /kassa24/registers/ID`); the register after it, or undefined for an unknown id. */
  control(id: number, body: z.output<typeof k24RegisterControlSchema>): object | undefined {
    const r = this.registers.find((x) => x.id === id);
    if (!r) return undefined;
    if (body.blocked !== undefined) r.blocked = body.blocked ?? undefined;
    if (body.shift_fault !== undefined) r.shiftFault = body.shift_fault ?? undefined;
    if (body.offline_queue !== undefined) r.offlineQueue = body.offline_queue ?? undefined;
    if (body.status_kkm !== undefined) r.registerStatus = body.status_kkm ?? undefined;
    if (body.lock !== undefined) r.lock = body.lock ?? undefined;
    if (body.ofd_code !== undefined) r.ofdCode = body.ofd_code ?? undefined;
    if (body.shift !== undefined) r.shift = body.shift === null ? undefined : this.shiftAfter(r, body.shift);
    if (body.xreport_refused !== undefined && r.shift) r.shift.xreportRefused = body.xreport_refused;
    return this.view(r);
  }

  /** What the control API shows of a register. */
  view(r: K24RegisterState): object {
    const s = r.shift;
    return {
      register: r.id, blocked: r.blocked ?? null, shift_fault: r.shiftFault ?? null, offline_queue: r.offlineQueue ?? null,
      xreport_refused: s?.xreportRefused ?? false, status_kkm: r.registerStatus ?? null, lock: r.lock ?? null, ofd_code: r.ofdCode ?? null, xreports: this.xreports.get(r.id) ?? 0,
      shift: s ? { id: s.id, index: s.index, open: s.open, opened_at: s.openedAt, closed_at: s.closedAt ?? null, status: this.status(s).name, balance_open: s.balanceOpen, sales_qty: s.salesQty, sales_amount: s.salesAmount } : null,
    };
  }

  /** The register's shift after a control: a new one for a new `index` (or where it had none), else the same one changed. */
  private shiftAfter(r: K24RegisterState, c: z.output<typeof shiftControlSchema>): K24ShiftState {
    const now = Math.floor(Date.now() / 1000);
    const old = r.shift;
    const fresh = !old || (c.index !== undefined && c.index !== old.index);
    const base: K24ShiftState = fresh
      ? { ...shiftFor(r.id, c.index ?? (old?.index ?? 0) + 1, 0, true, now), id: this.nextShiftId() }
      : { ...old };
    const open = c.open ?? base.open;
    return {
      ...base,
      open,
      openedAt: c.opened_at ?? base.openedAt,
      closedAt: open ? undefined : (c.closed_at ?? base.closedAt ?? now),
      balanceOpen: c.balance_open ?? base.balanceOpen,
      salesQty: c.sales_qty ?? base.salesQty,
      salesAmount: c.sales_amount ?? base.salesAmount,
    };
  }

  /** A shift id no register has used. */
  private nextShiftId(): number {
    return 1 + Math.max(0, ...this.registers.map((r) => r.shift?.id ?? 0));
  }

  private async auth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authCalls++;
    let body: { Login?: string; Password?: string } = {};
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return envelope(res, 400, 400, 'Bad Request');
    }
    if (body.Login !== this.login || body.Password !== this.password) return envelope(res, 401, 401, 'Unauthorized: wrong login or password');
    envelope(res, 200, 200, 'OK', { Token: this.issue() });
  }

  private register(r: K24RegisterState): object {
    const backendFields = { OfflineQueue: r.offlineQueue, IdStatusKkm: r.registerStatus, Lock: r.lock, OfdCode: r.ofdCode };
    const sent = Object.fromEntries(Object.entries(backendFields).filter(([, v]) => v !== undefined));
    return { Id: r.id, Name: r.name, Znm: r.znm, Rnm: r.rnm, IdShift: r.shift?.id ?? 0, IdCompany: 20, ...sent };
  }

  /** 1 open, 2 closed (documented); a shift open past 24 h turns "expired", here 3 (undocumented number). */
  private status(s: K24ShiftState): { id: number; name: string } {
    if (!s.open) return { id: 2, name: 'Закрыта' };
    return Date.now() / 1000 - s.openedAt > 24 * HOUR ? { id: 3, name: 'Просрочена' } : { id: 1, name: 'Открыта' };
  }

  private shift(r: K24RegisterState, s: K24ShiftState): object {
    return {
      BalanceClose: s.open ? 0 : s.balanceOpen + s.salesAmount,
      BalanceCloseNonCash: 0,
      BalanceOpen: s.balanceOpen,
      Company: {},
      DateClose: s.closedAt ? iso(s.closedAt) : ZERO_TIME,
      DateOpen: iso(s.openedAt),
      Id: s.id,
      IdCompany: 20,
      IdKkm: r.id,
      IdStatusShift: this.status(s).id,
      IdUser: 1032,
      ShiftIndex: s.index,
      StatusShift: { Id: this.status(s).id, Name: this.status(s).name },
      User: { Id: 1032, IdShift: s.id, Lock: false, Name: 'first cashier', PhoneLogin: '77078385387' },
    };
  }

  private xreport(s: K24ShiftState): object {
    const op = (qty: number, amount: number, cumulative: number) => ({ Qty: qty, Amount: amount, Cumulative: cumulative });
    const vat = Math.round((s.salesAmount * 12) / 112 * 100) / 100;
    return {
      Count: s.salesQty + 1,
      Kkm: {},
      Sections: {},
      Operations: [],
      OperatorCode: '',
      Total: {
        Sales: op(s.salesQty, s.salesAmount, 1_228_340.94 + s.salesAmount),
        Purchases: op(0, 0, 154_990.88),
        Refunds: op(1, 250, 795_774.92),
        PurchaseRefunds: op(0, 0, 53_272.72),
        Expenses: op(0, 0, 19_146.36),
        Incomes: op(1, 5000, 61_511.53),
      },
      BalanceOpen: s.balanceOpen,
      BalanceClose: s.balanceOpen + s.salesAmount - 250 + 5000,
      BalanceCloseNonCash: 0,
      TotalAmount: s.salesAmount,
      TotalCashReceivedAmount: s.salesAmount,
      TotalChangeAmount: 0,
      TotalDiscountAmount: 0,
      TotalMarkupAmount: 0,
      TotalNdsAmount: vat,
    };
  }
}
