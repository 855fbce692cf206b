import { z } from 'zod';
import { bool, int, num, opt, str } from '../fields.js';
import { parseRecord, type RecordResult } from '../records.js';
import { readingOf } from '../../readings/reading.js';
import { fieldSeconds } from '../time.js';

/** One register's `data` (table 3); unknown fields are ignored. */
export const atolRegisterSchema = z.looseObject({
  serialNumber: str.pipe(z.string().min(1)),
  registrationNumber: opt(str),
  deviceNumber: opt(str),
  fiscalizationDate: opt(z.string()),
  fiscalStorageExpiration: opt(z.string()),
  signedDocuments: opt(int),
  fiscalStoragePercentageUse: opt(num),
  fiscalStorageINN: opt(str),
  fiscalStorageSerialNumber: opt(str),
  fiscalStoragePaymentAddress: opt(str),
  groupCode: opt(str),
  timestamp: opt(z.string()),
  isShiftOpened: opt(bool),
  shiftNumber: opt(int),
  shiftReceipt: opt(int),
  unsentDocs: opt(int),
  firstUnsetDocTimestamp: opt(z.string()),
  networkErrorCode: opt(int),
});
export type AtolRegister = z.infer<typeof atolRegisterSchema>;

const embeddedEntry = z.looseObject({ data: z.unknown() });

/**
 * The document describes `_embedded` as an object holding the array (HAL puts it under a relation
 * name) and shows it as the bare array: either is read, an object by its one array.
 */
const embedded = z.union([
  z.array(embeddedEntry),
  z
    .record(z.string(), z.unknown())
    .transform((holder, ctx) => {
      const arrays = Object.values(holder).filter(Array.isArray);
      if (arrays.length === 1) return arrays[0];
      ctx.addIssue({ code: 'custom', message: `an object holding ${arrays.length} arrays, not the one array of registers` });
      return z.NEVER;
    })
    .pipe(z.array(embeddedEntry)),
]);

/** `GET /api/kkt/v1/cash-registers`: records stay unparsed here so one bad record fails alone. */
export const atolPageSchema = z.looseObject({
  _embedded: embedded.nullish(),
  total: opt(int),
  limit: opt(int),
  offset: opt(int),
  _links: opt(z.looseObject({ next: z.unknown().optional() })),
});

/** `GET /api/kkt/v1/cash-registers/{serialNumber}`. */
export const atolOneSchema = z.looseObject({ data: z.unknown() });

/** `POST /api/auth/v1/gettoken`: `expiresIn` is minutes after `issued`. */
export const atolTokenSchema = z.looseObject({
  token: z.string().min(1),
  issued: opt(z.string()),
  expiresIn: opt(num),
});

/** RFC 7807 problem details, as every ATOL error is sent. */
export function readAtolProblem(_status: number, body: unknown): { message?: string; code?: string } {
  if (body === null || typeof body !== 'object') return {};
  const p = body as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return { message: text(p.detail) ?? text(p.title), code: text(p.errorCode) };
}

/** A register record turned into a reading; a malformed one is reported with its serial if it has one. */
export function parseAtolRegister(raw: unknown, zone: string, endpoint: string): RecordResult {
  return parseRecord(atolRegisterSchema, raw, 'serialNumber', (r) =>
    readingOf(
      r.serialNumber,
      endpoint,
      {
        serial: r.serialNumber,
        rnm: r.registrationNumber,
        device_number: r.deviceNumber,
        fn_serial: r.fiscalStorageSerialNumber,
        inn: r.fiscalStorageINN,
        payment_address: r.fiscalStoragePaymentAddress,
        group_code: r.groupCode,
      },
      {
        // Documented as present only when non-zero: absent means none.
        kkt_unsent_docs: r.unsentDocs ?? 0,
        kkt_unsent_oldest_timestamp_seconds: fieldSeconds(r.firstUnsetDocTimestamp, 'firstUnsetDocTimestamp', zone),
        kkt_fn_usage_percent: r.fiscalStoragePercentageUse,
        kkt_fn_expiry_timestamp_seconds: fieldSeconds(r.fiscalStorageExpiration, 'fiscalStorageExpiration', zone),
        kkt_fn_documents: r.signedDocuments,
        kkt_fn_fiscalization_timestamp_seconds: fieldSeconds(r.fiscalizationDate, 'fiscalizationDate', zone),
        kkt_shift_open: r.isShiftOpened === undefined ? undefined : Number(r.isShiftOpened),
        kkt_shift_number: r.shiftNumber,
        kkt_shift_receipts: r.shiftReceipt,
        kkt_ofd_network_error_code: r.networkErrorCode,
        kkt_status_timestamp_seconds: fieldSeconds(r.timestamp, 'timestamp', zone),
      },
    ),
  );
}
