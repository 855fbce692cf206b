import { describe, expect, it } from 'vitest';
import { ClockWatch, clockSkew, MOVING_WINDOW_SECONDS, type RegisterTime } from './clock.js';

const NOW = 1_800_000_000;
const MIN = 60;
const HOUR = 3600;
/** Registers whose data was formed `ages` seconds before NOW, read with their times shifted by `shift`. */
const fleet = (ages: number[], shift = 0): RegisterTime[] => ages.map((age, i) => ({ kkt: String(2000004581 + i), seconds: NOW - age + shift }));
const FRESH = [1, 1, 2, 1, 3, 1, 0, 2].map((m) => m * MIN);

describe('clockSkew: BusinessKassa times against the exporter clock', () => {
  it('a fresh fleet read in the right zone: offset 0, nothing to say', () => {
    expect(clockSkew(fleet(FRESH), NOW, true)).toEqual({ offsetSeconds: 0, ahead: [] });
  });

  it('a fleet read 3 h ahead (its zone is 3 h east of `timezone`): +10800 and a line for the page', () => {
    const skew = clockSkew(fleet(FRESH, 3 * HOUR), NOW, false);
    expect(skew.offsetSeconds).toBe(10_800);
    expect(skew.warning).toBe('times read 3 h ahead: check `timezone`');
    expect(skew.ahead).toHaveLength(FRESH.length);
  });

  it('a fleet read 3 h behind: -10800, while its times move', () => {
    const skew = clockSkew(fleet(FRESH, -3 * HOUR), NOW, true);
    expect(skew).toEqual({ offsetSeconds: -10_800, ahead: [], warning: 'times read 3 h behind: check `timezone`' });
  });

  it('a fleet whose data stopped at one moment 3 h ago is stale, not in another zone', () => {
    expect(clockSkew(fleet(FRESH, -3 * HOUR), NOW, false)).toEqual({ offsetSeconds: 0, ahead: [] });
  });

  it('one register 20 min ahead: no fleet offset, but the page names it', () => {
    const times = fleet(FRESH);
    times[2] = { kkt: 'ahead-1', seconds: NOW + 20 * MIN };
    expect(clockSkew(times, NOW, true)).toEqual({ offsetSeconds: 0, ahead: ['ahead-1'], warning: 'times of register ahead-1 read 20 min ahead: check its clock' });
    expect(clockSkew([{ kkt: 'a', seconds: NOW + 9 * MIN }], NOW, true)).toEqual({ offsetSeconds: 0, ahead: [] });
  });

  it('a minority ahead by 3 h: no offset, the registers are named', () => {
    const times = [...fleet(FRESH.slice(0, 5)), ...fleet([MIN, MIN, MIN, MIN], 3 * HOUR).map((t, i) => ({ ...t, kkt: `east-${i}` }))];
    const skew = clockSkew(times, NOW, true);
    expect(skew.offsetSeconds).toBe(0);
    expect(skew.warning).toBe('times of 4 of 9 registers (east-0, east-1, east-2, ...) read up to 3 h ahead: check their clocks or `timezone`');
  });

  it('a fleet genuinely stale by varying ages: offset 0, the stale alerts stay', () => {
    expect(clockSkew(fleet([1.5, 2.6, 4.3, 7.4, 26, 3.5].map((h) => h * HOUR)), NOW, true)).toEqual({ offsetSeconds: 0, ahead: [] });
  });

  it('most registers, not all, decide: 5 of 8 three hours behind is an offset, 4 of 8 is not', () => {
    const mixed = (n: number) => [...fleet(FRESH.slice(0, n), -3 * HOUR), ...fleet([5, 9, 13, 30].map((h) => h * HOUR)).slice(0, 8 - n)];
    expect(clockSkew(mixed(5), NOW, true).offsetSeconds).toBe(-10_800);
    expect(clockSkew(mixed(4), NOW, true).offsetSeconds).toBe(0);
  });

  it('times within 10 min of the whole hour count, farther ones do not', () => {
    expect(clockSkew(fleet([9 * MIN, 9 * MIN], -2 * HOUR), NOW, true).offsetSeconds).toBe(-7200);
    expect(clockSkew(fleet([11 * MIN, 11 * MIN], -2 * HOUR), NOW, true).offsetSeconds).toBe(0);
  });

  it('an empty fleet: offset 0, nothing to say', () => {
    expect(clockSkew([], NOW, true)).toEqual({ offsetSeconds: 0, ahead: [] });
  });
});

describe('ClockWatch: a change is reported once, and "behind" needs times that move', () => {
  it('reports a new offset once, then again only when it changes', () => {
    const watch = new ClockWatch();
    expect(watch.check(fleet(FRESH), NOW).changed).toBe(false);
    expect(watch.check(fleet(FRESH, 3 * HOUR), NOW + 60)).toMatchObject({ changed: true, skew: { offsetSeconds: 10_800 } });
    expect(watch.check(fleet(FRESH, 3 * HOUR + 60), NOW + 120).changed).toBe(false);
    expect(watch.current.offsetSeconds).toBe(10_800);
    expect(watch.check(fleet(FRESH, 180), NOW + 180)).toMatchObject({ changed: true, skew: { offsetSeconds: 0 } });
  });

  it('counts a fleet behind as a zone only after its newest time has advanced, and not once it stands still', () => {
    const watch = new ClockWatch();
    const behind = (t: number) => fleet([0, 0, 0], t - 2 * HOUR);
    // First seen: nothing says yet whether the times move.
    expect(watch.check(behind(0), NOW).skew.offsetSeconds).toBe(0);
    expect(watch.check(behind(60), NOW + 60).skew.offsetSeconds).toBe(-7200);
    expect(watch.check(behind(60), NOW + 60 + 10 * MIN).skew.offsetSeconds).toBe(-7200);
    // The service stopped: an hour on, its data looks 3 h old, which is no zone.
    expect(MOVING_WINDOW_SECONDS).toBeLessThan(HOUR - 10 * MIN);
    expect(watch.check(behind(60), NOW + 60 + HOUR).skew.offsetSeconds).toBe(0);
  });
});
