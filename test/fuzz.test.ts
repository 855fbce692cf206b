/**
 * Every vendor parser under property-based testing: whatever the vendor sends, the parser gives a
 * typed reading or a typed parse error - never an exception that escapes, never NaN or Infinity.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UKM_ENDPOINTS } from '../src/sources/ukm/config.js';
import { parseAtolRegister } from '../src/sources/atol/parse.js';
import { parseBkRegister } from '../src/sources/businesskassa/parse.js';
import { k24ShiftSchema, k24XReportSchema, shiftSamples, xreportSamples } from '../src/sources/kassa24/parse.js';
import type { RecordResult } from '../src/sources/records.js';
import type { Sample } from '../src/readings/reading.js';
import { parseVendorTime, TimeParseError } from '../src/sources/time.js';
import { parseUkmAnswer, UkmParseError } from '../src/sources/ukm/parse.js';

const RUNS = { numRuns: 500 };
const finite = (samples: Sample[]) => samples.every((s) => Number.isFinite(s.value));

/** JSON-ish values, including the shapes vendors get wrong: strings for numbers, nulls, arrays. */
const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('Invalid date', '0001-01-01T00:00:00Z', 'NaN', 'Infinity', '1e400', '-0', ''));
const anyJson = fc.anything({ maxDepth: 3, withNullPrototype: false }).filter((v) => v === null || typeof v !== 'function');

/** A record where every known field may be replaced by anything. */
function mutated(fields: Record<string, unknown>) {
  const keys = Object.keys(fields);
  // The known value most of the time, so that a good share of records still validates and the
  // mapping past the schema is exercised too.
  const field = (k: string) => fc.oneof({ arbitrary: fc.constant(fields[k]), weight: 4 }, { arbitrary: scalar, weight: 1 }, { arbitrary: anyJson, weight: 1 });
  return fc.record(Object.fromEntries(keys.map((k) => [k, field(k)])), { requiredKeys: [] });
}

/** A malformed record is refused with a reason a person can read, naming what was wrong. */
const REFUSAL = /^malformed register record: \S/;

function checkRecord(result: RecordResult): void {
  if (result.ok) {
    expect(finite(result.reading.samples)).toBe(true);
    expect(result.reading.kkt.length).toBeGreaterThan(0);
  } else {
    expect(result.error).toMatch(REFUSAL);
    expect(result.error).not.toMatch(/\[object Object\]/);
  }
}

/** Counts how many runs a property's input was valid, so that a property cannot pass on refusals alone. */
function validShare() {
  let valid = 0;
  let runs = 0;
  return {
    count(ok: boolean) {
      runs++;
      if (ok) valid++;
    },
    expectSome() {
      expect(runs).toBe(RUNS.numRuns);
      expect(valid / runs).toBeGreaterThan(0.05);
    },
  };
}

describe('parsers never throw and never produce NaN or Infinity', () => {
  it('UKM answers: any status, any body', () => {
    fc.assert(
      fc.property(fc.constantFrom(...UKM_ENDPOINTS), fc.integer({ min: 100, max: 599 }), fc.oneof(fc.string(), fc.json(), scalar.map(String)), (endpoint, status, body) => {
        try {
          expect(finite(parseUkmAnswer(endpoint, status, body, 'Europe/Moscow'))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(UkmParseError);
        }
      }),
      RUNS,
    );
  });

  it('vendor times', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), (value) => {
        try {
          const t = parseVendorTime(value, 'Asia/Almaty');
          expect(t === undefined || Number.isFinite(t)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(TimeParseError);
        }
      }),
      RUNS,
    );
  });

  it('ATOL register records', () => {
    const example = {
      serialNumber: '00107703864827', registrationNumber: '000000003027865', fiscalizationDate: '2019-07-22T14:03:00+00:00', fiscalStorageExpiration: '2020-11-02T21:00:00+00:00',
      signedDocuments: 213350, fiscalStoragePercentageUse: 85.34, timestamp: '2019-12-05T10:45:30+00:00', isShiftOpened: true, shiftNumber: 126, shiftReceipt: 2278,
      unsentDocs: 1510, firstUnsetDocTimestamp: '2019-12-05T08:46:00+00:00', networkErrorCode: 0,
    };
    fc.assert(fc.property(fc.oneof(mutated(example), anyJson), (raw) => checkRecord(parseAtolRegister(raw, 'UTC', 'list'))), RUNS);
  });

  it('BusinessKassa register records', () => {
    const fs = fc.oneof(mutated({ inn: '770900467024', rnm: '0008287390020208', phase: 3, sn: '7381440800357213', flags: 0, shift_is_open: true, ofd: { number: 0, fd_first: 0, fd_first_timestamp: 'Invalid date' }, mode: 4 }), anyJson);
    const record = fc.record({ eip: fc.oneof(fc.constant('10.55.15.19:10515'), scalar), sn: fc.oneof(fc.constant('2000004581'), scalar), timestamp: fc.oneof(fc.constant('18.09.2025 14:02'), scalar), mcu_temperature: fc.oneof(fc.constant(45), scalar), fs }, { requiredKeys: [] });
    fc.assert(fc.property(fc.oneof(record, anyJson), (raw) => checkRecord(parseBkRegister(raw, 'Europe/Moscow', 'frs'))), RUNS);
  });

  it('Kassa24 shifts and X-reports', () => {
    const shiftExample = { Id: 11344, IdStatusShift: 1, ShiftIndex: 8, DateOpen: '2020-06-30T17:28:12.6624564Z', DateClose: '0001-01-01T00:00:00Z', BalanceOpen: 51690, User: { Lock: true } };
    const shift = mutated(shiftExample);
    const totals = mutated({ Qty: 1, Amount: 100, Cumulative: 1228340.94 });
    const xreport = fc.record({ Count: scalar, Total: fc.oneof(fc.record({ Sales: totals, Refunds: totals }, { requiredKeys: [] }), anyJson), TotalNdsAmount: scalar }, { requiredKeys: [] });
    const shifts = validShare();
    const xreports = validShare();
    fc.assert(
      fc.property(shift, xreport, (s, x) => {
        const parsedShift = k24ShiftSchema.safeParse(s);
        shifts.count(parsedShift.success);
        if (parsedShift.success) {
          try {
            expect(finite(shiftSamples(parsedShift.data, 'Asia/Almaty'))).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(TimeParseError);
          }
        } else {
          // Refused for a field it knows, whose value the mutation changed from the example's.
          const fields = parsedShift.error.issues.map((i) => String(i.path[0]));
          expect(fields.length).toBeGreaterThan(0);
          for (const f of fields) {
            expect(Object.keys(shiftExample)).toContain(f);
            expect((s as Record<string, unknown>)[f]).not.toEqual(shiftExample[f as keyof typeof shiftExample]);
          }
        }
        const parsedX = k24XReportSchema.safeParse(x);
        xreports.count(parsedX.success);
        if (parsedX.success) expect(finite(xreportSamples(parsedX.data))).toBe(true);
        else expect(parsedX.error.issues.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
    shifts.expectSome();
    xreports.expectSome();
  });
});
