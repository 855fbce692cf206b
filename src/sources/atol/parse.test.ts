import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RegisterReading } from '../../readings/reading.js';
import { atolOneSchema, atolPageSchema, atolTokenSchema, parseAtolRegister, readAtolProblem } from './parse.js';
import { tokenExpiry } from './client.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/atol/${name}`, import.meta.url), 'utf8'));
const t = (iso: string) => Date.parse(iso) / 1000;
const values = (r: RegisterReading) => Object.fromEntries(r.samples.map((s) => [s.metric, s.value]));

function parse(raw: unknown) {
  const result = parseAtolRegister(raw, 'Europe/Moscow', 'list');
  if (!result.ok) throw new Error(result.error);
  return result.reading;
}

const DOC_RECORD = (fixture('page-example.json') as { _embedded: Array<{ data: Record<string, unknown> }> })._embedded[0]?.data as Record<string, unknown>;

describe('ATOL payloads from the API document', () => {
  it('reads the page example of the ATOL API document (its section 2.2): paging fields and the record', () => {
    const page = atolPageSchema.parse(fixture('page-example.json'));
    expect(page.total).toBe(345);
    expect(page.limit).toBe(1);
    expect(page.offset).toBe(100);
    expect(page._links?.next).toBeDefined();
    expect(page._embedded).toHaveLength(1);
  });

  it('reads _embedded as the bare array the example shows and as the object holding it the table describes', () => {
    const example = fixture('page-example.json') as { _embedded: unknown[] };
    const asObject = atolPageSchema.parse({ ...example, _embedded: { cashRegisters: example._embedded } });
    expect(asObject._embedded).toEqual(atolPageSchema.parse(example)._embedded);
    expect(asObject._embedded).toHaveLength(1);
    expect(atolPageSchema.parse({ ...example, _embedded: { cashRegisters: [] } })._embedded).toEqual([]);
    expect(atolPageSchema.safeParse({ ...example, _embedded: { a: [], b: [] } }).success).toBe(false);
    expect(atolPageSchema.safeParse({ ...example, _embedded: { registers: 'none' } }).success).toBe(false);
  });

  it('reads offset-less times as UTC unless the source names a zone, as the document says its times are', () => {
    const naive = { ...DOC_RECORD, timestamp: '2026-11-20T10:00:00' };
    const utc = parseAtolRegister(naive, 'UTC', 'list');
    const vladivostok = parseAtolRegister(naive, 'Asia/Vladivostok', 'list');
    expect(utc.ok && values(utc.reading).kkt_status_timestamp_seconds).toBe(t('2026-11-20T10:00:00Z'));
    expect(vladivostok.ok && values(vladivostok.reading).kkt_status_timestamp_seconds).toBe(t('2026-11-20T00:00:00Z'));
  });

  it('maps every field of the record to a metric or a kkt_info label', () => {
    const r = parse(DOC_RECORD);
    expect(r.kkt).toBe('00107703864827');
    expect(r.up).toBe(true);
    expect(r.info).toEqual({
      serial: '00107703864827',
      rnm: '000000003027865',
      device_number: 'KKT024219',
      fn_serial: '9999078902004339',
      inn: '3026455760',
      payment_address: 'test.qa.ru',
      group_code: 'test-qa-ru_14605',
    });
    expect(values(r)).toEqual({
      kkt_unsent_docs: 1510,
      kkt_unsent_oldest_timestamp_seconds: t('2019-12-05T08:46:00Z'),
      kkt_fn_usage_percent: 85.34,
      kkt_fn_expiry_timestamp_seconds: t('2020-11-02T21:00:00Z'),
      kkt_fn_documents: 213350,
      kkt_fn_fiscalization_timestamp_seconds: t('2019-07-22T14:03:00Z'),
      kkt_shift_open: 1,
      kkt_shift_number: 126,
      kkt_shift_receipts: 2278,
      kkt_ofd_network_error_code: 0,
      kkt_status_timestamp_seconds: t('2019-12-05T10:45:30Z'),
    });
  });

  it('covers the PHP guide\'s whole field list', () => {
    const phpGuideFields = [
      'serialNumber', 'registrationNumber', 'deviceNumber', 'fiscalizationDate', 'fiscalStorageExpiration', 'signedDocuments',
      'fiscalStoragePercentageUse', 'fiscalStorageINN', 'fiscalStorageSerialNumber', 'fiscalStoragePaymentAddress', 'groupCode',
      'timestamp', 'isShiftOpened', 'shiftNumber', 'shiftReceipt', 'unsentDocs', 'firstUnsetDocTimestamp', 'networkErrorCode',
    ];
    const full = parse(DOC_RECORD);
    const seriesCount = full.samples.length + Object.keys(full.info).length;
    for (const field of phpGuideFields) {
      const without = { ...DOC_RECORD };
      delete without[field];
      if (field === 'serialNumber') {
        expect(parseAtolRegister(without, 'UTC', 'list').ok).toBe(false);
        continue;
      }
      const r = parse(without);
      // unsentDocs is documented as absent when 0, so dropping it changes the value, not the count.
      if (field === 'unsentDocs') expect(values(r).kkt_unsent_docs).toBe(0);
      else expect(r.samples.length + Object.keys(r.info).length, field).toBe(seriesCount - 1);
    }
  });

  it('does not choke on the duplicated serialNumber key of the one-register example (section 2.3 of the ATOL API document)', () => {
    const answer = atolOneSchema.parse(fixture('one-example.json'));
    const r = parse(answer.data);
    expect(r.kkt).toBe('00107703864827'); // JSON: the last of duplicated keys wins
    expect(values(r).kkt_fn_documents).toBe(213350);
  });

  it('reads the token answer, with its seven-digit fraction of a second', () => {
    const tok = atolTokenSchema.parse(fixture('token-example.json'));
    expect(tok.expiresIn).toBe(1440);
    const issuedMs = Date.parse('2020-03-31T14:25:06.028Z');
    expect(tokenExpiry(tok.issued, tok.expiresIn, issuedMs + 1000)).toBe(issuedMs + 1440 * 60_000);
  });

  it('never trusts a token longer than expiresIn from now, whatever `issued` says', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(tokenExpiry('2026-01-02T00:00:00+00:00', 1440, now)).toBe(now + 1440 * 60_000);
    expect(tokenExpiry(undefined, 60, now)).toBe(now + 3_600_000);
    expect(tokenExpiry('garbage', 60, now)).toBe(now + 3_600_000);
    expect(tokenExpiry('2026-01-01T00:00:00Z', undefined, now)).toBeUndefined();
  });

  it('reads RFC 7807 errors', () => {
    expect(readAtolProblem(401, fixture('error-wrong-login.json'))).toEqual({ message: 'Неверный логин или пароль', code: 'WrongLoginOrPassword' });
    expect(readAtolProblem(401, fixture('error-expired-token.json'))).toMatchObject({ code: 'ExpiredToken' });
    expect(readAtolProblem(500, { title: 'Ошибка сервера', status: 500 })).toEqual({ message: 'Ошибка сервера', code: undefined });
    expect(readAtolProblem(502, undefined)).toEqual({});
  });
});

describe('ATOL records off the happy path', () => {
  it('absent unsentDocs and firstUnsetDocTimestamp mean 0 and no series', () => {
    const { unsentDocs: _u, firstUnsetDocTimestamp: _f, ...rest } = DOC_RECORD;
    const v = values(parse(rest));
    expect(v.kkt_unsent_docs).toBe(0);
    expect(v).not.toHaveProperty('kkt_unsent_oldest_timestamp_seconds');
  });

  it('takes numbers sent as strings, 0/1 booleans, and null as "not reported"', () => {
    const r = parse({ ...DOC_RECORD, signedDocuments: '213350', fiscalStoragePercentageUse: '85.34', isShiftOpened: 0, shiftNumber: null, groupCode: null });
    expect(values(r)).toMatchObject({ kkt_fn_documents: 213350, kkt_fn_usage_percent: 85.34, kkt_shift_open: 0 });
    expect(values(r)).not.toHaveProperty('kkt_shift_number');
    expect(r.info).not.toHaveProperty('group_code');
  });

  it('ignores unknown fields', () => {
    expect(parse({ ...DOC_RECORD, newField: { nested: [1, 2] } }).up).toBe(true);
  });

  it('reports a malformed record with its serial, and one without a serial without', () => {
    expect(parseAtolRegister({ ...DOC_RECORD, signedDocuments: 'many' }, 'UTC', 'list')).toMatchObject({ ok: false, kkt: '00107703864827', error: expect.stringMatching(/signedDocuments/) });
    expect(parseAtolRegister({ ...DOC_RECORD, timestamp: 'yesterday' }, 'UTC', 'list')).toMatchObject({ ok: false, kkt: '00107703864827', error: expect.stringMatching(/timestamp/) });
    expect(parseAtolRegister({ ...DOC_RECORD, fiscalStoragePercentageUse: [85] }, 'UTC', 'list')).toMatchObject({ ok: false });
    expect(parseAtolRegister({ registrationNumber: '1' }, 'UTC', 'list')).toMatchObject({ ok: false, kkt: undefined });
    expect(parseAtolRegister(null, 'UTC', 'list')).toMatchObject({ ok: false, kkt: undefined });
    expect(parseAtolRegister('00107703864827', 'UTC', 'list')).toMatchObject({ ok: false });
  });
});
