import { readFileSync } from 'node:fs';
import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { mswTransport } from '../../../test/support/msw-transport.js';
import { SourceHttp, type RequestObserver } from '../../http/client.js';
import { Deadline } from '../../deadline/deadline.js';
import type { HttpRequest } from '../../http/transport.js';
import { Logger, type LogRecord } from '../../log.js';
import type { SourceReading, RegisterReading } from '../../readings/reading.js';
import { TokenSession } from '../auth.js';
import { Kassa24Client } from './client.js';
import type { Kassa24SourceConfig } from './config.js';
import { Kassa24Source } from './source.js';
import { XReportCache } from './xreport-cache.js';

const BASE = 'https://fiscal2.kassa24.kz';
const PASSWORD = 'kassa24-password';
const fixture = (name: string): { Status: number; Message: string; Data: Record<string, unknown> | null } =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/kassa24/${name}`, import.meta.url), 'utf8'));
const SHIFT = fixture('shift-example.json');
const XREPORT = fixture('xreport-example.json');
const SHIFT_ID = SHIFT.Data?.Id as number;

/** One call's answer: the document's error envelope (over HTTP, or inside a 200 with `inEnvelope`), or a body. */
type Answer = { error: string; inEnvelope?: boolean } | { status: number; message: string } | undefined;

interface Service {
  /** Fields of `GET /kkms/:id`'s Kkm beside Id and IdShift. */
  register?: Record<string, unknown>;
  registerAnswer?: Answer;
  shiftAnswer?: Answer;
  xreportAnswer?: Answer;
  wrongPassword?: boolean;
  /** The IdKkm GET /kkms lists (default [2062]). */
  listed?: number[];
}

function answer(a: Answer, ok: () => unknown): Response {
  if (!a) return HttpResponse.json({ Status: 200, Message: 'OK', Data: ok() });
  if ('status' in a) return HttpResponse.json({ Status: a.status, Message: a.message, Data: null }, { status: a.status });
  const body = fixture(a.error);
  return HttpResponse.json(body, { status: a.inEnvelope ? 200 : body.Status });
}

function setup(service: Service = {}, overrides: Partial<Kassa24SourceConfig> = {}) {
  const handlers = [
    http.post(`${BASE}/auth`, () =>
      service.wrongPassword
        ? HttpResponse.json({ Status: 401, Message: 'Unauthorized: wrong login or password', Data: null }, { status: 401 })
        : HttpResponse.json({ Status: 200, Message: 'OK', Data: { Token: 'opaque-token' } }),
    ),
    http.get(`${BASE}/kkms`, () => HttpResponse.json({ Status: 200, Message: 'OK', Data: { Kkms: (service.listed ?? [2062]).map((Id) => ({ Id })) } })),
    http.get(`${BASE}/kkms/:id`, ({ params }) => answer(service.registerAnswer, () => ({ Kkm: { Id: Number(params.id), Name: 'Касса 1', Znm: 'SWK00002062', Rnm: '600300002062', IdShift: SHIFT_ID, ...service.register } }))),
    http.get(`${BASE}/shifts/:id`, () => answer(service.shiftAnswer, () => SHIFT.Data)),
    http.post(`${BASE}/shifts/:id/x`, () => answer(service.xreportAnswer, () => XREPORT.Data)),
  ];
  const requests: HttpRequest[] = [];
  const observer: RequestObserver = { request() {}, rateLimitWait() {}, auth() {} };
  const config: Kassa24SourceConfig = {
    name: 'kz', type: 'kassa24', url: BASE, login: '77001234567', password: PASSWORD, kkms: [2062], concurrency: 8, max_registers: 100_000,
    probe_only: false, blocked_from_lock: false, xreport: { enabled: true, min_interval: 900_000, method: 'POST', path: '/shifts/{shift}/x' },
    ...overrides,
  };
  const client = new Kassa24Client(config, new SourceHttp('kz', mswTransport(handlers, requests), observer), new TokenSession());
  const source = new Kassa24Source(config, client, 'Asia/Almaty', new XReportCache());
  const logs: LogRecord[] = [];
  const probe = (target?: string): Promise<SourceReading> => {
    const ctx = { deadline: Deadline.in(5000), log: new Logger((r) => logs.push(r), 'debug') };
    const found = target === undefined ? undefined : source.lookup(target);
    return source.read(ctx, found?.ok ? found.target : undefined);
  };
  const calls = (pattern: RegExp) => requests.filter((r) => pattern.test(`${r.method} ${r.url.replace(BASE, '')}`)).length;
  return { service, probe, calls, logs };
}

const only = (result: SourceReading): RegisterReading => {
  expect(result.registers).toHaveLength(1);
  return result.registers[0] as RegisterReading;
};
const value = (r: RegisterReading, metric: string) => r.samples.find((s) => s.metric === metric && !s.labels)?.value;
const endpoints = (r: RegisterReading) => Object.fromEntries(r.endpoints.map((e) => [e.endpoint, e.success]));
const X_CALL = /^POST \/shifts\/\d+\/x$/;

describe('Kassa24Source: the blocked answer, wherever it comes from', () => {
  it('GET /kkms/:id answering 403 "касса заблокирована": up, blocked, and nothing more is known', async () => {
    const k = setup({ registerAnswer: { error: 'error-register-blocked.json' } });
    const result = await k.probe();
    const r = only(result);
    expect(r).toMatchObject({ kkt: '2062', up: true, info: { id_kkm: '2062' } });
    expect(value(r, 'kkt_register_blocked')).toBe(1);
    expect(endpoints(r)).toEqual({ kkm: false });
    expect(r.error).toBe('the register is blocked: HTTP 403: Forbidden: касса заблокирована');
    expect(result.success).toBe(true);
    expect(result.sourceUp).toBeUndefined();
    expect(k.calls(/shifts/)).toBe(0);
  });

  it('the same answer inside an HTTP 200 envelope is read the same', async () => {
    const r = only(await setup({ registerAnswer: { error: 'error-register-blocked.json', inEnvelope: true } }).probe());
    expect(value(r, 'kkt_register_blocked')).toBe(1);
    expect(r.up).toBe(true);
  });

  it('GET /shifts/:id answering it: the register record is read, blocked wins over its IdStatusKkm, no X-report', async () => {
    const k = setup({ register: { IdStatusKkm: 1, OfflineQueue: 0 }, shiftAnswer: { error: 'error-register-blocked.json' } });
    const r = only(await k.probe());
    expect(r.info).toMatchObject({ id_kkm: '2062', znm: 'SWK00002062' });
    expect(r.samples.filter((s) => s.metric === 'kkt_register_blocked')).toEqual([{ metric: 'kkt_register_blocked', value: 1 }]);
    expect(endpoints(r)).toEqual({ kkm: true, shift: false });
    expect(k.calls(X_CALL)).toBe(0);
  });

  it('the X-report answering it: blocked until the next attempt is due, and not asked again before', async () => {
    const k = setup({ register: { IdStatusKkm: 1 }, xreportAnswer: { error: 'error-register-blocked.json' } });
    for (let i = 0; i < 3; i++) {
      const r = only(await k.probe());
      expect(value(r, 'kkt_register_blocked')).toBe(1);
      expect(endpoints(r)).toEqual({ kkm: true, shift: true, xreport: false });
      expect(value(r, 'kkt_shift_open')).toBe(1);
    }
    expect(k.calls(X_CALL)).toBe(1);
    expect(k.logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['the service says the register is blocked']);
  });

  it('other 403s are failures, not a refusal and not a block', async () => {
    const k = setup({ register: { IdStatusKkm: 1 }, xreportAnswer: { error: 'error-access-closed.json' } });
    const r = only(await k.probe());
    expect(value(r, 'kkt_register_blocked')).toBe(0);
    expect(endpoints(r)).toMatchObject({ xreport: false });
    const warns = k.logs.filter((l) => l.level === 'warn');
    expect(warns.map((l) => [l.msg, l.fields.err])).toEqual([['no X-report', 'HTTP 403: Forbidden: Доступ к указанному ресурсу закрыт.']]);
    const unreadable = setup({ registerAnswer: { error: 'error-access-closed.json' } });
    expect(only(await unreadable.probe())).toMatchObject({ up: false, error: 'cannot read the register: HTTP 403: Forbidden: Доступ к указанному ресурсу закрыт.' });
  });

  it('the wrong-cashier 403 stays the expected refusal: up, not blocked, said once per shift', async () => {
    const k = setup({ register: { IdStatusKkm: 1 }, xreportAnswer: { error: 'error-wrong-shift.json' } });
    const result = await k.probe();
    expect(result.success).toBe(true);
    expect(value(only(result), 'kkt_register_blocked')).toBe(0);
    expect(k.logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([expect.stringMatching(/refuses X-reports of this shift/)]);
  });
});

describe('Kassa24Source: Lock and OfdCode', () => {
  it('Lock does not block the register by default; blocked_from_lock: true reads it as blocked and takes no X-report', async () => {
    const off = setup({ register: { IdStatusKkm: 1, Lock: true } });
    expect(value(only(await off.probe()), 'kkt_register_blocked')).toBe(0);
    expect(off.calls(X_CALL)).toBe(1);
    const on = setup({ register: { IdStatusKkm: 1, Lock: true } }, { blocked_from_lock: true });
    const r = only(await on.probe());
    expect(value(r, 'kkt_register_blocked')).toBe(1);
    expect(on.calls(X_CALL)).toBe(0);
    expect(r.notes).toEqual(['X-report not taken: the register is blocked; no totals yet']);
  });

  it('OfdCode is kkt_ofd_network_error_code, not an identity label; one that is not a number is logged and absent', async () => {
    const r = only(await setup({ register: { OfdCode: '254' } }).probe());
    expect(value(r, 'kkt_ofd_network_error_code')).toBe(254);
    expect(Object.keys(r.info)).toEqual(['id_kkm', 'name', 'znm', 'rnm']);
    const odd = setup({ register: { OfdCode: 'n/a' } });
    const s = only(await odd.probe());
    expect(s.up).toBe(true);
    expect(value(s, 'kkt_ofd_network_error_code')).toBeUndefined();
    expect(odd.logs.filter((l) => l.level === 'warn').map((l) => [l.msg, l.fields.ofd_code])).toEqual([['OfdCode is not a number: no kkt_ofd_network_error_code', 'n/a']]);
  });
});

describe('Kassa24Source: a failing shift call', () => {
  it('leaves the register up and partly read: shift endpoint 0 and the reason; the source read as UKM reads one (every register up)', async () => {
    const k = setup({ shiftAnswer: { status: 500, message: 'Internal Server Error' } });
    const result = await k.probe();
    const r = only(result);
    expect(r.up).toBe(true);
    expect(endpoints(r)).toEqual({ kkm: true, shift: false });
    expect(r.error).toBe('cannot read the shift: HTTP 500: Internal Server Error');
    expect(r.samples.map((s) => s.metric)).not.toContain('kkt_shift_open');
    expect(result.success).toBe(true);
    expect(result.sourceUp).toBeUndefined();
  });
});

describe('Kassa24Source: no X-report while it would deepen a backlog', () => {
  it('keeps the cached totals with their own timestamp and says why, without taking one, while documents are kept offline', async () => {
    const k = setup({ register: { OfflineQueue: 0 } });
    const taken = only(await k.probe());
    const takenAt = value(taken, 'kkt_xreport_timestamp_seconds') as number;
    expect(k.calls(X_CALL)).toBe(1);
    k.service.register = { OfflineQueue: 3 };
    // An hour later, past xreport.min_interval: an X-report would be due.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 });
    let r: RegisterReading;
    try {
      r = only(await k.probe());
    } finally {
      vi.useRealTimers();
    }
    expect(k.calls(X_CALL)).toBe(1);
    expect(value(r, 'kkt_xreport_timestamp_seconds')).toBe(takenAt);
    expect(r.samples.find((s) => s.metric === 'kkt_xreport_amount' && s.labels?.operation === 'sales')?.value).toBe(100);
    expect(value(r, 'kkt_unsent_docs')).toBe(3);
    const at = new Date(takenAt * 1000).toISOString();
    expect(r.notes).toEqual([expect.stringMatching(new RegExp(`^X-report not taken: 3 documents kept offline; totals from (${at.slice(0, 10)} )?${at.slice(11, 16)} UTC$`))]);
    expect(endpoints(r)).toEqual({ kkm: true, shift: true });
    expect(r.error).toBeUndefined();
  });

  it('takes none for a register blocked by IdStatusKkm 3, and none while offline with nothing cached', async () => {
    const blocked = setup({ register: { IdStatusKkm: 3 } });
    expect(only(await blocked.probe()).notes).toEqual(['X-report not taken: the register is blocked; no totals yet']);
    const offline = setup({ register: { OfflineQueue: 1 } });
    expect(only(await offline.probe()).notes).toEqual(['X-report not taken: 1 document kept offline; no totals yet']);
    expect(blocked.calls(X_CALL) + offline.calls(X_CALL)).toBe(0);
  });
});

describe('Kassa24Source: the login is the source\'s own call', () => {
  it('with kkms: a refused login is kkt_source_up 0 and every configured register down, none asked', async () => {
    const k = setup({ wrongPassword: true });
    const result = await k.probe();
    expect(result.sourceUp).toBe(false);
    expect(result.success).toBe(false);
    expect(only(result)).toMatchObject({ kkt: '2062', up: false, error: expect.stringMatching(/^Kassa24 login failed: HTTP 401: Unauthorized: wrong login or password/) });
    expect(k.calls(/kkms/)).toBe(0);
  });

  it('without kkms, and for /probe of one register, the same', async () => {
    const fleet = await setup({ wrongPassword: true }, { kkms: undefined }).probe();
    expect(fleet).toMatchObject({ sourceUp: false, success: false, error: expect.stringMatching(/Kassa24 login failed/) });
    const one = await setup({ wrongPassword: true }).probe('2062');
    expect(one.sourceUp).toBe(false);
    expect(only(one)).toMatchObject({ kkt: '2062', up: false });
  });

  it('a register GET /kkms lists twice is read once', async () => {
    const k = setup({ listed: [2062, 2062] }, { kkms: undefined });
    expect(only(await k.probe())).toMatchObject({ kkt: '2062', up: true });
    expect(k.calls(/^GET \/kkms\/2062$/)).toBe(1);
    expect(k.calls(X_CALL)).toBe(1);
  });

  it('a register failing alone is not the source failing', async () => {
    const result = await setup({ registerAnswer: { status: 500, message: 'Internal Server Error' } }).probe();
    expect(result.success).toBe(false);
    expect(result.sourceUp).toBeUndefined();
    expect(only(result).up).toBe(false);
  });
});
