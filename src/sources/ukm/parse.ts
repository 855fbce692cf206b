import type { UkmEndpoint } from './config.js';
import type { Sample } from '../../readings/reading.js';
import { parseVendorTime, TimeParseError } from '../time.js';

/** A UKM answer the exporter could not read. */
export class UkmParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UkmParseError';
  }
}

type Scalar = string | number | boolean;

/** Keys a JSON body may wrap its one value in; the plugin's body format is not documented. */
const VALUE_KEYS = ['value', 'result', 'data', 'count', 'time', 'datetime', 'date', 'weight', 'id', 'user_role_id'];

/** Wrappers around the one value; a UKM answer has a few at most, so a deeper body is something else. */
const MAX_WRAPPERS = 16;

/** Unwraps the one value in a loop: a body nested a million deep must not overflow the stack. */
function fromJson(json: unknown): Scalar | undefined {
  let value = json;
  for (let depth = 0; depth <= MAX_WRAPPERS; depth++) {
    if (value === null || value === undefined) return undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    value = unwrap(value);
  }
  throw new UkmParseError(`not a UKM answer: JSON body nested more than ${MAX_WRAPPERS} levels deep`);
}

/** The one value an array or object holds, if it holds one. */
function unwrap(value: object): unknown {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) return obj[keys[0] as string];
  const key = VALUE_KEYS.find((k) => k in obj);
  return key === undefined ? undefined : obj[key];
}

/** The one value in a body sent as plain text, a JSON scalar, or a JSON object or array holding it. */
export function bodyScalar(body: string): Scalar | undefined {
  const text = body.replace(/^\uFEFF/, '').trim();
  if (text === '') return undefined;
  if (!/^[[{"]/.test(text)) return text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UkmParseError(`malformed JSON body: ${preview(text)}`);
  }
  const value = fromJson(json);
  if (value === undefined) throw new UkmParseError(`no single value in JSON body: ${preview(text)}`);
  return value;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

const NUMBER_RE = /^(-?\d+(?:[.,]\d+)?)\s*([\p{L}.]*)$/u;

/** A number sent as JSON or text (a decimal comma allowed), and the word after it (`1,25 кг` -> 1.25, "кг"). */
function numberAndWord(value: Scalar | undefined, what: string): { n: number; word: string } {
  if (typeof value === 'number' && Number.isFinite(value)) return { n: value, word: '' };
  if (typeof value === 'string') {
    const m = NUMBER_RE.exec(value.trim());
    if (m) return { n: Number((m[1] as string).replace(',', '.')), word: m[2] as string };
  }
  throw new UkmParseError(`${what} is not a number: ${preview(String(value ?? ''))}`);
}

/** A count or an id: a word after the number (`17 шт`) is ignored, as it always has been. */
export function numberOf(value: Scalar | undefined, what: string): number {
  return numberAndWord(value, what).n;
}

/** The weight units a register may state, and how many of each make a kilogram (the metric's unit). */
const UNITS_PER_KILOGRAM: Record<string, number> = { g: 1000, gr: 1000, г: 1000, гр: 1000, kg: 1, кг: 1 };

/** A weight in kilograms: a bare number is kilograms, a stated unit is converted, any other unit is an error. */
export function kilogramsOf(value: Scalar | undefined): number {
  const { n, word } = numberAndWord(value, 'weight');
  const unit = word.toLowerCase().replace(/\.$/, '');
  if (unit === '') return n;
  const perKilogram = UNITS_PER_KILOGRAM[unit];
  if (perKilogram === undefined) throw new UkmParseError(`weight unit ${JSON.stringify(word)} is not one of g, gr, г, гр, kg, кг`);
  return n / perKilogram;
}

function countOf(value: Scalar | undefined, what: string): number {
  const n = numberOf(value, what);
  if (!Number.isInteger(n) || n < 0) throw new UkmParseError(`${what} is not a count: ${n}`);
  return n;
}

function timeOf(value: Scalar | undefined, zone: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') throw new UkmParseError(`not a date-time: ${value}`);
  try {
    return parseVendorTime(value, zone);
  } catch (err) {
    if (err instanceof TimeParseError) throw new UkmParseError(err.message);
    throw err;
  }
}

function flag(status: number, onOk: number): number {
  return status === 200 ? onOk : 1 - onOk;
}

function withTime(samples: Sample[], metric: Sample['metric'], seconds: number | undefined): Sample[] {
  return seconds === undefined ? samples : [...samples, { metric, value: seconds }];
}

/**
 * The samples one UKM endpoint's answer gives: 204 is a normal answer, not an error (no paper, no
 * open receipt, Vision down: the README's metric table). Throws UkmParseError for a status or body the endpoint does not send.
 */
export function parseUkmAnswer(endpoint: UkmEndpoint, status: number, body: string, zone: string): Sample[] {
  if (status !== 200 && status !== 204) throw new UkmParseError(`unexpected HTTP status ${status}`);
  const ok = status === 200;
  switch (endpoint) {
    case 'paper':
      return [{ metric: 'kkt_paper_present', value: flag(status, 1) }];
    case 'vision':
      return [{ metric: 'kkt_vision_connected', value: flag(status, 1) }];
    case 'ofd':
      if (!ok) throw new UkmParseError('unexpected HTTP status 204 (the ofd endpoint always sends a count)');
      return [{ metric: 'kkt_unsent_docs', value: countOf(bodyScalar(body), 'unsent document count') }];
    case 'user_role_id':
      if (!ok) throw new UkmParseError('unexpected HTTP status 204 (the user_role_id endpoint always sends an id)');
      return [{ metric: 'kkt_user_role_id', value: numberOf(bodyScalar(body), 'user role id') }];
    case 'last_receipt_time': {
      const samples: Sample[] = [{ metric: 'kkt_receipt_open', value: flag(status, 1) }];
      return ok ? withTime(samples, 'kkt_receipt_last_activity_timestamp_seconds', timeOf(bodyScalar(body), zone)) : samples;
    }
    case 'downtime': {
      const samples: Sample[] = [{ metric: 'kkt_receipt_open', value: flag(status, 0) }];
      return ok ? withTime(samples, 'kkt_receipt_last_closed_timestamp_seconds', timeOf(bodyScalar(body), zone)) : samples;
    }
    case 'weight':
      return ok ? [{ metric: 'kkt_scale_weight', value: kilogramsOf(bodyScalar(body)) }] : [];
  }
}
