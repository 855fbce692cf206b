import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
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

describe('parseVendorTime fast path for local times', () => {
  const ZONES = ['Europe/Moscow', 'Asia/Almaty', 'Asia/Kamchatka', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
  const wallText = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

  it('agrees with luxon for every time in every zone, DST changes included', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1991, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...ZONES), (wall, zone) => {
        const text = wallText(Math.floor(wall / 1000) * 1000);
        const ours = parseVendorTime(text, zone);
        const luxon = DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone }).toMillis() / 1000;
        if (ours === luxon) return;
        // A wall time that happens twice (clocks going back): either instant is right, both must show it.
        const shown = (s: number) => DateTime.fromMillis(s * 1000, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
        expect([shown(ours as number), shown(luxon)]).toEqual([text, text]);
      }),
      { numRuns: 3000 },
    );
  });

  it('resolves the moments around a DST change like luxon', () => {
    // Berlin 2026-03-29 02:30 does not exist (clocks jump 02:00 -> 03:00): luxon moves it forward.
    expect(parseVendorTime('2026-03-29 02:30:00', 'Europe/Berlin')).toBe(utc('2026-03-29T01:30:00Z'));
    expect(parseVendorTime('29.03.2026 03:00', 'Europe/Berlin')).toBe(utc('2026-03-29T01:00:00Z'));
    expect(parseVendorTime('2026-10-25 01:59:59', 'Europe/Berlin')).toBe(utc('2026-10-24T23:59:59Z'));
  });

  it('reads fractions of a second as milliseconds and leaves impossible dates to fail', () => {
    expect(parseVendorTime('2026-11-22 12:34:56.5', MSK)).toBe(utc('2026-11-22T09:34:56.500Z'));
    expect(parseVendorTime('2026-11-22T12:34:56.123', MSK)).toBe(utc('2026-11-22T09:34:56.123Z'));
    expect(() => parseVendorTime('2026-02-30 10:00:00', MSK)).toThrow(TimeParseError);
    expect(() => parseVendorTime('31.04.2026 10:00', MSK)).toThrow(TimeParseError);
  });
});
