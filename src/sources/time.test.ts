import { describe, expect, it } from 'vitest';
import { parseVendorTime, TimeParseError } from './time.js';

const MSK = 'Europe/Moscow';
const utc = (iso: string) => Date.parse(iso) / 1000;

describe('parseVendorTime', () => {
  it('reads ISO 8601 with an offset exactly, whatever the configured zone', () => {
    expect(parseVendorTime('2026-11-22T12:34:56+03:00', 'Asia/Almaty')).toBe(utc('2026-11-22T09:34:56Z'));
    expect(parseVendorTime('2020-04-01T10:03:52.431Z', MSK)).toBe(utc('2020-04-01T10:03:52.431Z'));
  });

  it('reads times without an offset in the configured zone', () => {
    expect(parseVendorTime('2026-11-22 12:34:56', MSK)).toBe(utc('2026-11-22T09:34:56Z'));
    expect(parseVendorTime('2026-11-22T12:34:56', 'Asia/Almaty')).toBe(utc('2026-11-22T07:34:56Z'));
  });

  it('reads the Russian dd.MM.yyyy HH:mm form (BusinessKassa) in the zone', () => {
    expect(parseVendorTime('18.09.2025 14:02', MSK)).toBe(utc('2025-09-18T11:02:00Z'));
    expect(parseVendorTime('18.09.2025 14:02:07', MSK)).toBe(utc('2025-09-18T11:02:07Z'));
  });

  it('reads epoch seconds and milliseconds', () => {
    expect(parseVendorTime(1795380000, MSK)).toBe(1795380000);
    expect(parseVendorTime('1795380000123', MSK)).toBe(1795380000.123);
  });

  it('gives undefined for documented "no time" markers', () => {
    expect(parseVendorTime('Invalid date', MSK)).toBeUndefined();
    expect(parseVendorTime('0001-01-01T00:00:00Z', MSK)).toBeUndefined();
    expect(parseVendorTime('', MSK)).toBeUndefined();
    expect(parseVendorTime(0, MSK)).toBeUndefined();
  });

  it('throws a typed error for anything else', () => {
    expect(() => parseVendorTime('yesterday', MSK)).toThrow(TimeParseError);
    expect(() => parseVendorTime('2026-13-45 25:61:00', MSK)).toThrow(TimeParseError);
    expect(() => parseVendorTime(Number.NaN, MSK)).toThrow(TimeParseError);
  });
});
