import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jwtExpiry } from '../auth.js';
import type { Sample } from '../../readings/reading.js';
import { VendorError } from '../vendor-json.js';
import { k24EnvelopeSchema, k24Refusal, k24RegisterAnswerSchema, k24ShiftSchema, k24XReportSchema, readK24Error, registerSamples, shiftSamples, xreportSamples } from './parse.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/kassa24/${name}`, import.meta.url), 'utf8'));
const data = (name: string) => k24EnvelopeSchema.parse(fixture(name)).Data;
const byMetric = (samples: Sample[]) => Object.fromEntries(samples.filter((s) => !s.labels).map((s) => [s.metric, s.value]));
const byOperation = (samples: Sample[], metric: string) => Object.fromEntries(samples.filter((s) => s.metric === metric).map((s) => [s.labels?.operation, s.value]));

describe('Kassa24 payloads from the document', () => {
  it('maps the open shift of "shift information"', () => {
    const shift = k24ShiftSchema.parse(data('shift-example.json'));
    expect(byMetric(shiftSamples(shift, 'Asia/Almaty'))).toEqual({
      kkt_shift_open: 1,
      kkt_shift_number: 8,
      kkt_shift_opened_timestamp_seconds: Date.parse('2020-06-30T17:28:12.662Z') / 1000,
      kkt_shift_locked: 1,
      kkt_shift_balance_open: 51690,
      kkt_shift_balance_close: 0,
      kkt_shift_balance_close_non_cash: 0,
    });
  });

  it('DateClose 0001-01-01T00:00:00Z while open means no closing time, not year 1', () => {
    const shift = k24ShiftSchema.parse(data('shift-example.json'));
    expect(byMetric(shiftSamples(shift, 'UTC'))).not.toHaveProperty('kkt_shift_closed_timestamp_seconds');
    const closed = k24ShiftSchema.parse({ ...(data('shift-example.json') as object), IdStatusShift: 2, DateClose: '2020-07-01T09:00:00Z' });
    expect(byMetric(shiftSamples(closed, 'UTC'))).toMatchObject({ kkt_shift_open: 0, kkt_shift_closed_timestamp_seconds: Date.parse('2020-07-01T09:00:00Z') / 1000 });
  });

  it('an expired shift (a status the document does not number) reads as open; only status 2 is closed', () => {
    const base = data('shift-example.json') as object;
    for (const status of [1, 3, 4, 0]) {
      expect(byMetric(shiftSamples(k24ShiftSchema.parse({ ...base, IdStatusShift: status }), 'UTC')).kkt_shift_open, `status ${status}`).toBe(1);
    }
    expect(byMetric(shiftSamples(k24ShiftSchema.parse({ ...base, IdStatusShift: 2 }), 'UTC')).kkt_shift_open).toBe(0);
  });

  const registerState = (fields: object, blockedFromLock = false) => registerSamples(k24RegisterAnswerSchema.parse({ Kkm: { Id: 77505, Name: 'Касса', IdShift: 11344, ...fields } }).Kkm, blockedFromLock);

  it('reads the offline queue and the blocked state of a register when the backend sends them, nothing when it does not', () => {
    expect(registerState({ OfflineQueue: 17, IdStatusKkm: 1, Lock: false })).toEqual({ kkt_unsent_docs: 17, kkt_register_blocked: 0, kkt_ofd_network_error_code: undefined });
    expect(registerState({ IdStatusKkm: 3 })).toMatchObject({ kkt_register_blocked: 1 });
    expect(registerState({})).toEqual({ kkt_unsent_docs: undefined, kkt_register_blocked: undefined, kkt_ofd_network_error_code: undefined });
  });

  it('reads Lock as blocked only with blocked_from_lock: its meaning is not documented', () => {
    expect(registerState({ IdStatusKkm: 1, Lock: true })).toMatchObject({ kkt_register_blocked: 0 });
    expect(registerState({ Lock: true })).toMatchObject({ kkt_register_blocked: undefined });
    expect(registerState({ IdStatusKkm: 1, Lock: true }, true)).toMatchObject({ kkt_register_blocked: 1 });
    expect(registerState({ Lock: false }, true)).toMatchObject({ kkt_register_blocked: 0 });
    expect(registerState({ IdStatusKkm: 3, Lock: false }, true)).toMatchObject({ kkt_register_blocked: 1 });
  });

  it('reads OfdCode, the result of the last exchange with the OFD, as a number; one that is not a number is absent', () => {
    expect(registerState({ OfdCode: '0' }).kkt_ofd_network_error_code).toBe(0);
    expect(registerState({ OfdCode: '254' }).kkt_ofd_network_error_code).toBe(254);
    expect(registerState({ OfdCode: 15 }).kkt_ofd_network_error_code).toBe(15);
    expect(registerState({ OfdCode: 'OFD-7' }).kkt_ofd_network_error_code).toBeUndefined();
    expect(registerState({ OfdCode: '' }).kkt_ofd_network_error_code).toBeUndefined();
    expect(registerState({ OfdCode: null }).kkt_ofd_network_error_code).toBeUndefined();
  });

  it('maps every total of the X-report example, duplicated Count and all', () => {
    const x = xreportSamples(k24XReportSchema.parse(data('xreport-example.json')));
    expect(byOperation(x, 'kkt_xreport_operations')).toEqual({ sales: 1, purchases: 0, refunds: 0, purchase_refunds: 0, expenses: 0, incomes: 0 });
    expect(byOperation(x, 'kkt_xreport_amount')).toEqual({ sales: 100, purchases: 0, refunds: 0, purchase_refunds: 0, expenses: 0, incomes: 0 });
    expect(byOperation(x, 'kkt_xreport_cumulative_amount')).toEqual({
      sales: 1228340.94, purchases: 154990.88, refunds: 795774.92, purchase_refunds: 53272.72, expenses: 19146.36, incomes: 61511.53,
    });
    expect(byMetric(x)).toEqual({
      kkt_xreport_all_operations: 1,
      kkt_xreport_total_amount: 100,
      kkt_xreport_cash_received_amount: 100,
      kkt_xreport_change_amount: 0,
      kkt_xreport_discount_amount: 0,
      kkt_xreport_markup_amount: 0,
      kkt_xreport_vat_amount: 10.71,
      kkt_xreport_balance_open: 93794.1,
      kkt_xreport_balance_close: 93894.1,
      kkt_xreport_balance_close_non_cash: 0,
    });
  });

  it('reads the envelope of the error tables', () => {
    expect(readK24Error(401, fixture('error-token-expired.json'))).toEqual({ message: 'Unauthorized: token is expired by 2h36m46s' });
    expect(readK24Error(410, fixture('error-shift-closed.json'))).toEqual({ message: 'Данная смена уже закрыта' });
    expect(readK24Error(500, '<html>')).toEqual({});
  });

  it('tells the blocked register and the wrong-cashier refusal apart from the other 403s of the error tables', () => {
    // As the client throws them: `HTTP <status>: <Message>`, or `Status <Status>: <Message>` inside a 200 envelope.
    const refusal = (status: number, message: string, over = 'HTTP') => k24Refusal(new VendorError(`${over} ${status}: ${message}`, status));
    // Open-shift table.
    expect(refusal(403, 'Forbidden: касса заблокирована')).toBe('blocked');
    expect(refusal(403, 'Forbidden: Доступ к указанному ресурсу закрыт.')).toBeUndefined();
    expect(refusal(403, 'Forbidden: на данной ККМ уже открыта смена')).toBeUndefined();
    expect(refusal(424, 'Forbidden: за данным пользователем уже числится открытая смена')).toBeUndefined();
    // X-report table, as the OCR prints it ("заблокирова на").
    expect(refusal(403, 'Forbidden: касса заблокирова на')).toBe('blocked');
    expect(refusal(403, 'Указан неверный идентификатор смены')).toBe('wrong_shift');
    expect(refusal(410, 'Данная смена уже закрыта')).toBeUndefined();
    expect(refusal(403, 'Forbidden: Доступ к указанному ресурсу закрыт.')).toBeUndefined();
    // Case, spacing and the "Forbidden:" prefix do not matter; the envelope's Status counts as the HTTP one.
    expect(refusal(403, 'касса заблокирована')).toBe('blocked');
    expect(refusal(403, 'FORBIDDEN: Касса  Заблокирована.')).toBe('blocked');
    expect(refusal(403, 'Forbidden: касса заблокирована', 'Status')).toBe('blocked');
    expect(refusal(403, 'указан неверный  идентификатор смены', 'Status')).toBe('wrong_shift');
    // Only a 403 is a refusal; anything that is not the vendor's answer is none.
    expect(refusal(500, 'Forbidden: касса заблокирована')).toBeUndefined();
    expect(refusal(401, 'Unauthorized: token is expired by 2h36m46s')).toBeUndefined();
    expect(k24Refusal(new Error('касса заблокирована'))).toBeUndefined();
  });

  it('leaves out what the vendor did not report, and refuses a shift without its id or status', () => {
    expect(xreportSamples(k24XReportSchema.parse({ Total: { Sales: { Qty: 2 } } }))).toEqual([{ metric: 'kkt_xreport_operations', value: 2, labels: { operation: 'sales' } }]);
    expect(k24ShiftSchema.safeParse({ Id: 1 }).success).toBe(false);
    expect(k24ShiftSchema.safeParse({ Id: '11344', IdStatusShift: '1', BalanceOpen: '51690.5' }).success).toBe(true);
  });
});

describe('jwtExpiry', () => {
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  it('reads the exp claim', () => expect(jwtExpiry(jwt({ exp: 1795380000 }))).toBe(1795380000_000));
  it('is undefined for opaque tokens and tokens without exp', () => {
    expect(jwtExpiry('opaque-token')).toBeUndefined();
    expect(jwtExpiry(jwt({ sub: 'x' }))).toBeUndefined();
    expect(jwtExpiry('a.!!!.c')).toBeUndefined();
  });
});
