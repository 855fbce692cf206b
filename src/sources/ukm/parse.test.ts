import { describe, expect, it } from 'vitest';
import { bodyScalar, parseUkmAnswer, UkmParseError } from './parse.js';

const MSK = 'Europe/Moscow';
const values = (endpoint: Parameters<typeof parseUkmAnswer>[0], status: number, body = '') =>
  Object.fromEntries(parseUkmAnswer(endpoint, status, body, MSK).map((s) => [s.metric, s.value]));

describe('UKM answers (200 and 204 both mean something)', () => {
  it('paper: 200 present, 204 no paper', () => {
    expect(values('paper', 200)).toEqual({ kkt_paper_present: 1 });
    expect(values('paper', 204)).toEqual({ kkt_paper_present: 0 });
  });

  it('vision: 200 link up, 204 link down', () => {
    expect(values('vision', 200)).toEqual({ kkt_vision_connected: 1 });
    expect(values('vision', 204)).toEqual({ kkt_vision_connected: 0 });
  });

  it('ofd: the count of unsent receipts, 0 when none', () => {
    expect(values('ofd', 200, '17')).toEqual({ kkt_unsent_docs: 17 });
    expect(values('ofd', 200, '0')).toEqual({ kkt_unsent_docs: 0 });
    expect(values('ofd', 200, '{"count": 3}')).toEqual({ kkt_unsent_docs: 3 });
  });

  it('last_receipt_time: 200 open receipt with its last activity, 204 no open receipt', () => {
    expect(values('last_receipt_time', 200, '2026-11-22 12:00:00')).toEqual({
      kkt_receipt_open: 1,
      kkt_receipt_last_activity_timestamp_seconds: Date.parse('2026-11-22T09:00:00Z') / 1000,
    });
    expect(values('last_receipt_time', 204)).toEqual({ kkt_receipt_open: 0 });
  });

  it('downtime: 200 idle since the last closed receipt, 204 a receipt is open', () => {
    expect(values('downtime', 200, '{"time":"2026-11-22T12:00:00+03:00"}')).toEqual({
      kkt_receipt_open: 0,
      kkt_receipt_last_closed_timestamp_seconds: Date.parse('2026-11-22T09:00:00Z') / 1000,
    });
    expect(values('downtime', 204)).toEqual({ kkt_receipt_open: 1 });
  });

  it('user_role_id: the id of the logged-in user', () => {
    expect(values('user_role_id', 200, '42')).toEqual({ kkt_user_role_id: 42 });
  });

  it('weight: the weight while no receipt is open; 204 (receipt open) reports nothing', () => {
    expect(values('weight', 200, '1.25')).toEqual({ kkt_scale_weight: 1.25 });
    expect(values('weight', 200, '{"weight": 0.35}')).toEqual({ kkt_scale_weight: 0.35 });
    expect(values('weight', 204)).toEqual({});
  });

  it('weight: a unit the register states is converted to kilograms, whatever its case and with or without a dot', () => {
    for (const body of ['1,250 кг', '1.25 kg', '1.25kg', '1,25 КГ.', '1.25 Kg.', '"1.25 кг"']) expect(values('weight', 200, body)).toEqual({ kkt_scale_weight: 1.25 });
    for (const body of ['250 g', '250g', '250 gr', '250 г', '250 гр.', '250 Г', '250,0 GR.', '{"value": "250 г"}']) expect(values('weight', 200, body)).toEqual({ kkt_scale_weight: 0.25 });
    expect(values('weight', 200, '1250 г')).toEqual({ kkt_scale_weight: 1.25 });
    expect(values('weight', 200, '0 г')).toEqual({ kkt_scale_weight: 0 });
  });

  it('weight: a unit it does not know is a parse error of the weight endpoint, not a number in the wrong unit', () => {
    expect(() => values('weight', 200, '2.5 lb')).toThrow(new UkmParseError('weight unit "lb" is not one of g, gr, г, гр, kg, кг'));
    expect(() => values('weight', 200, '250 мг')).toThrow(/weight unit "мг"/);
    expect(() => values('weight', 200, 'кг')).toThrow(/weight is not a number/);
  });

  it('counts and ids ignore a word after the number, as they always have: only weight converts units', () => {
    expect(values('ofd', 200, '17 шт')).toEqual({ kkt_unsent_docs: 17 });
    expect(values('user_role_id', 200, '42 id')).toEqual({ kkt_user_role_id: 42 });
    expect(values('ofd', 200, '17 г')).toEqual({ kkt_unsent_docs: 17 });
  });

  it('rejects statuses the plugin does not send, and bodies it could not mean', () => {
    expect(() => values('paper', 500)).toThrow(/unexpected HTTP status 500/);
    expect(() => values('ofd', 204)).toThrow(UkmParseError);
    expect(() => values('ofd', 200, '<html>oops</html>')).toThrow(/not a number/);
    expect(() => values('ofd', 200, '-1')).toThrow(/not a count/);
    expect(() => values('ofd', 200, '{"count": ')).toThrow(/malformed JSON/);
    expect(() => values('last_receipt_time', 200, 'yesterday')).toThrow(/not a date-time/);
  });
});

describe('bodyScalar: plain text, a JSON scalar, or an object holding one value', () => {
  it.each([
    ['17', '17'],
    ['  17\r\n', '17'],
    ['\uFEFF17', '17'],
    ['17', '17'],
    ['"2026-11-22 12:00:00"', '2026-11-22 12:00:00'],
    ['{"value": 5}', 5],
    ['{"result": {"count": 5}, "ok": true}', 5],
    ['[5]', 5],
  ])('%j -> %j', (body, expected) => {
    expect(bodyScalar(body)).toEqual(expected);
  });

  it('is undefined for an empty body and throws for JSON with no single value', () => {
    expect(bodyScalar('')).toBeUndefined();
    expect(() => bodyScalar('{"a": 1, "b": 2}')).toThrow(UkmParseError);
  });

  it('refuses a body nested a million deep as not a UKM answer, not with a stack overflow', () => {
    const depth = 1_000_000;
    for (const body of ['['.repeat(depth) + '3' + ']'.repeat(depth), '{"value":'.repeat(depth) + '3' + '}'.repeat(depth)]) {
      expect(() => parseUkmAnswer('ofd', 200, body, 'Europe/Moscow')).toThrow(new UkmParseError('not a UKM answer: JSON body nested more than 16 levels deep'));
    }
    expect(bodyScalar('['.repeat(16) + '3' + ']'.repeat(16))).toBe(3);
  });
});
