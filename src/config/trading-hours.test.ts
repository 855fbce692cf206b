import { describe, expect, it } from 'vitest';
import { configProblems, loadYaml } from '../../test/support/config.js';
import { isTrading, tradingHours, type TradingHours, type WrittenHours } from './trading-hours.js';
import { maskedYaml } from './mask.js';

const hours = (written: WrittenHours): TradingHours => tradingHours.parse(written);
/** A moment written with its UTC offset, e.g. 2026-03-06T21:59:00+03:00 (Friday 6 March 2026). */
const at = (iso: string): Date => new Date(iso);

const MOSCOW = 'Europe/Moscow';
const VLADIVOSTOK = 'Asia/Vladivostok';
const STORE = hours({ 'mon-fri': '08:00-22:00', 'sat-sun': '10:00-20:00' });

describe('isTrading: a store on its own wall clock', () => {
  it('a Moscow store across closing, the night and opening', () => {
    expect(isTrading(STORE, MOSCOW, at('2026-03-05T21:59:59+03:00'))).toBe(true); // Thursday, a second before closing
    expect(isTrading(STORE, MOSCOW, at('2026-03-05T22:00:00+03:00'))).toBe(false); // closed at 22:00
    expect(isTrading(STORE, MOSCOW, at('2026-03-06T03:00:00+03:00'))).toBe(false); // the night
    expect(isTrading(STORE, MOSCOW, at('2026-03-06T07:59:00+03:00'))).toBe(false);
    expect(isTrading(STORE, MOSCOW, at('2026-03-06T08:00:00+03:00'))).toBe(true); // opening, Friday
    // Saturday keeps its own hours: still closed at 09:00, open at 10:00, closed at 20:00.
    expect(isTrading(STORE, MOSCOW, at('2026-03-07T09:00:00+03:00'))).toBe(false);
    expect(isTrading(STORE, MOSCOW, at('2026-03-07T10:00:00+03:00'))).toBe(true);
    expect(isTrading(STORE, MOSCOW, at('2026-03-07T20:00:00+03:00'))).toBe(false);
  });

  it('a Vladivostok store with the same hours closes seven hours before the Moscow one', () => {
    expect(isTrading(STORE, VLADIVOSTOK, at('2026-03-05T21:59:00+10:00'))).toBe(true);
    expect(isTrading(STORE, VLADIVOSTOK, at('2026-03-05T22:00:00+10:00'))).toBe(false); // closing
    expect(isTrading(STORE, VLADIVOSTOK, at('2026-03-06T04:00:00+10:00'))).toBe(false); // the night
    expect(isTrading(STORE, VLADIVOSTOK, at('2026-03-06T08:00:00+10:00'))).toBe(true); // opening
    // 12:00 UTC on Thursday: 22:00 in Vladivostok (closed), 15:00 in Moscow (open).
    const instant = at('2026-03-05T12:00:00Z');
    expect(isTrading(STORE, VLADIVOSTOK, instant)).toBe(false);
    expect(isTrading(STORE, MOSCOW, instant)).toBe(true);
    // Friday 08:00 in Vladivostok (opening there) is Friday 01:00 in Moscow: closed there.
    const opening = at('2026-03-06T08:00:00+10:00');
    expect(isTrading(STORE, MOSCOW, opening)).toBe(false);
  });

  it('an overnight range runs into the next day, Sunday night into Monday', () => {
    const bar = hours({ fri: '22:00-02:00', sun: ['12:00-15:00', '22:00-02:00'] });
    expect(isTrading(bar, MOSCOW, at('2026-03-06T21:59:00+03:00'))).toBe(false);
    expect(isTrading(bar, MOSCOW, at('2026-03-06T23:30:00+03:00'))).toBe(true); // Friday night
    expect(isTrading(bar, MOSCOW, at('2026-03-07T01:59:00+03:00'))).toBe(true); // Saturday small hours, from Friday
    expect(isTrading(bar, MOSCOW, at('2026-03-07T02:00:00+03:00'))).toBe(false);
    expect(isTrading(bar, MOSCOW, at('2026-03-07T23:00:00+03:00'))).toBe(false); // Saturday is not listed
    expect(isTrading(bar, MOSCOW, at('2026-03-08T13:00:00+03:00'))).toBe(true); // Sunday's first range
    expect(isTrading(bar, MOSCOW, at('2026-03-08T16:00:00+03:00'))).toBe(false); // between its two ranges
    expect(isTrading(bar, MOSCOW, at('2026-03-09T01:00:00+03:00'))).toBe(true); // Monday 01:00, from Sunday
    expect(isTrading(bar, MOSCOW, at('2026-03-05T01:00:00+03:00'))).toBe(false); // Thursday 01:00: Wednesday is not listed
  });

  it('a weekday range that wraps over the weekend (fri-mon), and a comma list', () => {
    const weekend = hours({ 'fri-mon': '10:00-20:00', 'wed,thu': '12:00-13:00' });
    const noon = (day: string) => isTrading(weekend, MOSCOW, at(`2026-03-${day}T12:30:00+03:00`));
    // 2 Mon, 3 Tue, 4 Wed, 5 Thu, 6 Fri, 7 Sat, 8 Sun.
    expect(['02', '03', '04', '05', '06', '07', '08'].map(noon)).toEqual([true, false, true, true, true, true, true]);
    expect(isTrading(weekend, MOSCOW, at('2026-03-04T13:00:00+03:00'))).toBe(false);
  });

  it('00:00-24:00 is the whole day, every moment of it', () => {
    const always = hours({ 'mon-sun': '00:00-24:00' });
    for (const iso of ['2026-03-02T00:00:00+03:00', '2026-03-04T12:00:00+03:00', '2026-03-08T23:59:59+03:00']) {
      expect(isTrading(always, MOSCOW, at(iso)), iso).toBe(true);
      expect(isTrading(always, VLADIVOSTOK, at(iso)), iso).toBe(true);
    }
    const weekdays = hours({ 'mon-fri': '00:00-24:00' });
    expect(isTrading(weekdays, MOSCOW, at('2026-03-06T23:59:59+03:00'))).toBe(true);
    expect(isTrading(weekdays, MOSCOW, at('2026-03-07T00:00:00+03:00'))).toBe(false);
  });

  it('no hours set: always trading, as before trading hours existed', () => {
    expect(isTrading(undefined, MOSCOW, at('2026-03-08T03:00:00+03:00'))).toBe(true);
  });
});

describe('trading_hours in the config file', () => {
  const ukm = (th: string, registerTh = '') =>
    `sources:\n  - name: stores\n    type: ukm\n    trading_hours: ${th}\n    registers:\n      - { name: a, url: "http://10.0.0.1:8080"${registerTh ? `, trading_hours: ${registerTh}` : ''} }\n`;

  it('is read on every source type and on a UKM register, and shown as written in the debug output', async () => {
    const { config } = await loadYaml(`${ukm('{ mon-fri: "08:00-22:00", sat-sun: ["10:00-14:00", "15:00-20:00"] }', '{ mon-sun: "00:00-24:00" }')}  - { name: kz, type: kassa24, login: "1", password: p, trading_hours: { "mon,wed,fri": "09:00-18:00" } }\n`);
    const [stores, kz] = config.sources;
    expect(stores?.trading_hours).toBeDefined();
    expect(stores?.type === 'ukm' && stores.registers[0]?.trading_hours).toBeDefined();
    expect(kz?.trading_hours?.includes(at('2026-03-04T10:00:00+05:00'), 'Asia/Almaty')).toBe(true);
    expect(maskedYaml(stores)).toContain('trading_hours:\n  mon-fri: 08:00-22:00\n  sat-sun:\n    - 10:00-14:00\n');
  });

  it('accepts the YAML of the README, unquoted', async () => {
    expect(await configProblems(ukm('\n      mon-fri: 08:00-22:00\n      sat: [10:00-20:00]\n      sun: 22:00-02:00'))).toEqual([]);
  });

  it('a day listed twice, a bad time, an empty range and a bad key are errors at their line and column', async () => {
    const found = await configProblems(`sources:
  - name: stores
    type: ukm
    trading_hours:
      mon-fri: "08:00-22:00"
      fri: "10:00-20:00"
      sat: "10:00-25:00"
      sun: ["10:00-14:00", "12:00-12:00"]
      weekends: "10:00-20:00"
  - name: bk
    type: businesskassa
    url: http://10.0.0.2:8080/v1
    auth: { cookie: x }
    trading_hours: {}
`);
    expect(found).toEqual([
      '6:12: sources.0.trading_hours.fri: fri is listed twice (in "mon-fri" and in "fri")',
      expect.stringMatching(/^7:12: sources\.0\.trading_hours\.sat: "10:00-25:00" is not a time range: use "HH:MM-HH:MM"/),
      expect.stringMatching(/^8:28: sources\.0\.trading_hours\.sun\.1: "12:00-12:00" is an empty range/),
      expect.stringMatching(/^9:17: sources\.0\.trading_hours\.weekends: "weekends" is not a weekday key: use mon\.\.sun/),
      expect.stringMatching(/^14:20: sources\.1\.trading_hours: no day is listed/),
    ]);
  });

  it('refuses a value that is not a range or a list of them, and a register\'s bad hours', async () => {
    expect(await configProblems(ukm('{ mon: 8 }'))).toEqual([expect.stringMatching(/^4:27: sources\.0\.trading_hours\.mon: must be "HH:MM-HH:MM" or a list of them/)]);
    expect(await configProblems(ukm('{ mon: "08:00-22:00" }', '{ mon-mon: "08:00-22:00" }'))).toEqual([expect.stringMatching(/^6:\d+: sources\.0\.registers\.0\.trading_hours\.mon-mon: "mon-mon" is not a weekday key/)]);
    expect(await configProblems(ukm('{ mon: "24:00-02:00" }'))).toEqual([expect.stringMatching(/"24:00-02:00" is not a time range/)]);
  });
});
