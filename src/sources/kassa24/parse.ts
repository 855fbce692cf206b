import { z } from 'zod';
import { bool, int, num, opt, str } from '../fields.js';
import type { Sample } from '../../readings/reading.js';
import { fieldSeconds } from '../time.js';
import { VendorError } from '../vendor-json.js';

/** Every Kassa24 answer: `{Status, Message, Data}`; a non-200 Status can come inside an HTTP 200. */
export const k24EnvelopeSchema = z.looseObject({
  Status: opt(int),
  Message: opt(str),
  Data: z.unknown(),
});

export function readK24Error(_status: number, body: unknown): { message?: string } {
  const parsed = k24EnvelopeSchema.safeParse(body);
  return parsed.success ? { message: parsed.data.Message } : {};
}

/**
 * The 403 answers of the document's error tables that mean something other than a failed call:
 * `blocked` "Forbidden: касса заблокирована" (open-shift and X-report tables; the OCR prints
 * "заблокирова на"), and `wrong_shift` "Указан неверный идентификатор смены" (X-report table:
 * also what a cashier who did not open the shift is told).
 */
export type K24Refusal = 'blocked' | 'wrong_shift';

const REFUSALS: ReadonlyArray<[K24Refusal, string]> = [
  ['blocked', 'кассазаблокирован'],
  ['wrong_shift', 'неверныйидентификаторсмены'],
];

/** Which refusal a failed call is (a 403 over HTTP or inside the envelope), matched without case or spaces. */
export function k24Refusal(err: unknown): K24Refusal | undefined {
  if (!(err instanceof VendorError) || err.status !== 403) return undefined;
  const words = err.message.toLowerCase().replace(/\s+/g, '');
  return REFUSALS.find(([, text]) => words.includes(text))?.[0];
}

export const k24TokenSchema = z.looseObject({ Token: z.string().min(1) });

/** A register as `GET /kkms` and `GET /kkms/:IdKkm` answer it (the vendor's `Kkm`). */
const k24RegisterSchema = z.looseObject({
  Id: opt(int),
  IdKkm: opt(int),
  Name: opt(str),
  Znm: opt(str),
  Rnm: opt(str),
  IdShift: opt(int),
  // Seen in a public sample of the backend's models, not in the document: read when present.
  OfflineQueue: opt(int),
  IdStatusKkm: opt(int),
  Lock: opt(bool),
  OfdCode: opt(str),
});
export type K24Register = z.infer<typeof k24RegisterSchema>;

export const k24RegisterListSchema = z.looseObject({ Kkms: z.array(k24RegisterSchema).nullish().transform((v) => v ?? []) });
export const k24RegisterAnswerSchema = z.looseObject({ Kkm: k24RegisterSchema });

/** `GET /shifts/:IdShift` (the document's "shift information"). */
export const k24ShiftSchema = z.looseObject({
  Id: int,
  IdKkm: opt(int),
  IdStatusShift: int,
  ShiftIndex: opt(int),
  DateOpen: opt(z.string()),
  DateClose: opt(z.string()),
  BalanceOpen: opt(num),
  BalanceClose: opt(num),
  BalanceCloseNonCash: opt(num),
  User: opt(z.looseObject({ Lock: opt(bool) })),
});
export type K24Shift = z.infer<typeof k24ShiftSchema>;

const operationTotals = z.looseObject({ Qty: opt(num), Amount: opt(num), Cumulative: opt(num) });

/** The X-report: per-operation totals and the shift's totals. */
export const k24XReportSchema = z.looseObject({
  Count: opt(int),
  Total: opt(
    z.looseObject({
      Sales: opt(operationTotals),
      Purchases: opt(operationTotals),
      Refunds: opt(operationTotals),
      PurchaseRefunds: opt(operationTotals),
      Expenses: opt(operationTotals),
      Incomes: opt(operationTotals),
    }),
  ),
  BalanceOpen: opt(num),
  BalanceClose: opt(num),
  BalanceCloseNonCash: opt(num),
  TotalAmount: opt(num),
  TotalCashReceivedAmount: opt(num),
  TotalChangeAmount: opt(num),
  TotalDiscountAmount: opt(num),
  TotalMarkupAmount: opt(num),
  TotalNdsAmount: opt(num),
});
export type K24XReport = z.infer<typeof k24XReportSchema>;

/** The `operation` label of the X-report metrics, for each key of `Total`. */
export const OPERATIONS = {
  Sales: 'sales',
  Purchases: 'purchases',
  Refunds: 'refunds',
  PurchaseRefunds: 'purchase_refunds',
  Expenses: 'expenses',
  Incomes: 'incomes',
} as const;

function defined(samples: Array<Sample | { metric: Sample['metric']; value: number | undefined; labels?: Record<string, string> }>): Sample[] {
  return samples.filter((s): s is Sample => s.value !== undefined && Number.isFinite(s.value));
}

/**
 * The document numbers only 1 (open) and 2 (closed); a shift past 24 h turns "expired", a status it
 * does not number. Whatever is not closed is open: an expired shift still blocks the register.
 */
const SHIFT_CLOSED = 2;
const REGISTER_BLOCKED = 3;

export function shiftIsOpen(shift: K24Shift): boolean {
  return shift.IdStatusShift !== SHIFT_CLOSED;
}

/**
 * Whether the register record says it is blocked: `IdStatusKkm` 3 (confirmed), or `Lock` when
 * `blockedFromLock` is set (its meaning is not documented); undefined when it sends neither.
 */
export function registerBlocked(register: K24Register, blockedFromLock: boolean): boolean | undefined {
  const lock = blockedFromLock ? register.Lock : undefined;
  if (register.IdStatusKkm === undefined && lock === undefined) return undefined;
  return register.IdStatusKkm === REGISTER_BLOCKED || lock === true;
}

/** `OfdCode`, the result of the register's last exchange with the OFD, when it is a number. */
export function ofdCode(register: K24Register): number | undefined {
  return register.OfdCode !== undefined && /^\d+$/.test(register.OfdCode.trim()) ? Number(register.OfdCode) : undefined;
}

/** The register's own state beside its identity: documents kept offline, whether it is blocked, the OFD code. */
export function registerSamples(register: K24Register, blockedFromLock: boolean): { kkt_unsent_docs?: number; kkt_register_blocked?: number; kkt_ofd_network_error_code?: number } {
  const blocked = registerBlocked(register, blockedFromLock);
  return { kkt_unsent_docs: register.OfflineQueue, kkt_register_blocked: blocked === undefined ? undefined : Number(blocked), kkt_ofd_network_error_code: ofdCode(register) };
}

/** The samples of a shift; DateOpen/DateClose with offsets, `0001-01-01` meaning "not yet". */
export function shiftSamples(shift: K24Shift, zone: string): Sample[] {
  const lock = shift.User?.Lock;
  return defined([
    { metric: 'kkt_shift_open', value: Number(shiftIsOpen(shift)) },
    { metric: 'kkt_shift_number', value: shift.ShiftIndex },
    { metric: 'kkt_shift_opened_timestamp_seconds', value: fieldSeconds(shift.DateOpen, 'DateOpen', zone) },
    { metric: 'kkt_shift_closed_timestamp_seconds', value: fieldSeconds(shift.DateClose, 'DateClose', zone) },
    { metric: 'kkt_shift_locked', value: lock === undefined ? undefined : Number(lock) },
    { metric: 'kkt_shift_balance_open', value: shift.BalanceOpen },
    { metric: 'kkt_shift_balance_close', value: shift.BalanceClose },
    { metric: 'kkt_shift_balance_close_non_cash', value: shift.BalanceCloseNonCash },
  ]);
}

/** Every total of an X-report, as samples. */
export function xreportSamples(x: K24XReport): Sample[] {
  const perOperation = Object.entries(OPERATIONS).flatMap(([field, operation]) => {
    const t = x.Total?.[field as keyof typeof OPERATIONS];
    const labels = { operation };
    return [
      { metric: 'kkt_xreport_operations' as const, value: t?.Qty, labels },
      { metric: 'kkt_xreport_amount' as const, value: t?.Amount, labels },
      { metric: 'kkt_xreport_cumulative_amount' as const, value: t?.Cumulative, labels },
    ];
  });
  return defined([
    ...perOperation,
    { metric: 'kkt_xreport_all_operations', value: x.Count },
    { metric: 'kkt_xreport_total_amount', value: x.TotalAmount },
    { metric: 'kkt_xreport_cash_received_amount', value: x.TotalCashReceivedAmount },
    { metric: 'kkt_xreport_change_amount', value: x.TotalChangeAmount },
    { metric: 'kkt_xreport_discount_amount', value: x.TotalDiscountAmount },
    { metric: 'kkt_xreport_markup_amount', value: x.TotalMarkupAmount },
    { metric: 'kkt_xreport_vat_amount', value: x.TotalNdsAmount },
    { metric: 'kkt_xreport_balance_open', value: x.BalanceOpen },
    { metric: 'kkt_xreport_balance_close', value: x.BalanceClose },
    { metric: 'kkt_xreport_balance_close_non_cash', value: x.BalanceCloseNonCash },
  ]);
}
