import { describe, expect, it } from 'vitest';
import type { RegisterReading, Sample } from '../readings/reading.js';
import { csvCell, fillTimeOf, fnPlan, MAX_USAGE_POINTS, nextFnTrack, planCsv, planDays, type FnTrack } from './fn-plan.js';

const DAY = 86_400;
const NOW = 1_800_000_000;

function reading(info: Record<string, string>, samples: Sample[], up = true): RegisterReading {
  return { kkt: 'k1', labels: {}, up, info, samples, endpoints: [] };
}
const usage = (v: number): Sample => ({ metric: 'kkt_fn_usage_percent', value: v });
const expiry = (t: number): Sample => ({ metric: 'kkt_fn_expiry_timestamp_seconds', value: t });
const fiscal = (t: number): Sample => ({ metric: 'kkt_fn_fiscalization_timestamp_seconds', value: t });

describe('nextFnTrack', () => {
  it('keeps no track for a register that reports no FN (a UKM till), and the same one while a reading brings nothing new', () => {
    const paper: Sample = { metric: 'kkt_paper_present', value: 1 };
    expect(nextFnTrack(undefined, reading({}, [paper]), NOW)).toBeUndefined();
    const track = nextFnTrack(undefined, reading({ fn_serial: 'F1', rnm: 'R' }, [fiscal(NOW - DAY)]), NOW);
    expect(track).toEqual({ serial: 'F1', rnm: 'R', fiscalizedAt: NOW - DAY, points: [] });
    expect(nextFnTrack(track, reading({ fn_serial: 'F1', rnm: 'R' }, [fiscal(NOW - DAY)]), NOW + 60)).toBe(track);
  });
});

describe('fnPlan', () => {
  it('lists an FN expiring within N days and leaves out one expiring after', () => {
    const plan = fnPlan([
      { source: 'atol', kkt: 'soon', reading: reading({ fn_serial: 'F1' }, [expiry(NOW + 10 * DAY)]) },
      { source: 'atol', kkt: 'late', reading: reading({ fn_serial: 'F2' }, [expiry(NOW + 90 * DAY)]) },
    ], NOW);
    expect(plan.rows).toEqual([{ source: 'atol', kkt: 'soon', store: '', fnSerial: 'F1', date: NOW + 10 * DAY, reason: 'expires' }]);
    expect(fnPlan([{ source: 'atol', kkt: 'late', reading: reading({}, [expiry(NOW + 90 * DAY)]) }], NOW, 100).rows).toHaveLength(1);
  });

  it('computes the fill moment from the usage points and says when the rate is not known', () => {
    const points: Array<[number, number]> = [[NOW - 2 * DAY, 96], [NOW - DAY, 97], [NOW, 98]];
    expect(fillTimeOf(points)).toBeCloseTo(NOW + 2 * DAY);
    const fn: FnTrack = { points };
    const plan = fnPlan([
      { source: 's', kkt: 'fills', reading: reading({}, [usage(98)]), fn },
      { source: 's', kkt: 'new', reading: reading({}, [usage(50)]), fn: { points: [[NOW, 50]] } },
    ], NOW);
    expect(plan.rows.map((r) => [r.kkt, r.reason])).toEqual([['fills', 'fills at its rate']]);
    expect(plan.rateUnknown).toBe(1);
    expect(fillTimeOf([[NOW - DAY, 50], [NOW, 50]])).toBeUndefined();
  });

  it('takes the vendor flags as days left', () => {
    const flag = (name: string): Sample => ({ metric: 'kkt_fn_warning_flag', value: 1, labels: { flag: name } });
    const plan = fnPlan([{ source: 'bk', kkt: 'b', reading: reading({ fn_serial: 'S' }, [flag('urgent_replacement'), flag('resource_exhausted')]) }], NOW);
    expect(plan.rows).toEqual([{ source: 'bk', kkt: 'b', store: '', fnSerial: 'S', date: NOW + 3 * DAY, reason: 'vendor flag urgent_replacement says 3 days' }]);
  });

  it('groups by store, soonest first within a store', () => {
    const r = (kkt: string, store: string, days: number) => ({ source: 's', kkt, store, reading: reading({}, [expiry(NOW + days * DAY)]) });
    const plan = fnPlan([r('a', 'B', 5), r('b', 'A', 20), r('c', 'B', 1), r('d', 'A', 2)], NOW);
    expect(plan.rows.map((x) => `${x.store}/${x.kkt}`)).toEqual(['A/d', 'A/b', 'B/c', 'B/a']);
  });
});

describe('nextFnTrack (swap detection)', () => {
  const first = nextFnTrack(undefined, reading({ fn_serial: 'OLD', rnm: 'R1' }, [fiscal(1000), usage(40)]), NOW - DAY)!;

  it('flags a serial change with the same RNM and fiscalisation date, and keeps it while that holds', () => {
    const swapped = nextFnTrack(first, reading({ fn_serial: 'NEW', rnm: 'R1' }, [fiscal(1000), usage(1)]), NOW)!;
    expect(swapped.swap).toEqual({ from: 'OLD', to: 'NEW' });
    expect(swapped.points).toEqual([[NOW, 1]]);
    const again = nextFnTrack(swapped, reading({ fn_serial: 'NEW', rnm: 'R1' }, [fiscal(1000)]), NOW + 60)!;
    expect(again.swap).toEqual({ from: 'OLD', to: 'NEW' });
    expect(nextFnTrack(again, reading({}, []), NOW + 120)!.swap).toEqual({ from: 'OLD', to: 'NEW' });
    const plan = fnPlan([{ source: 'atol', kkt: 'k1', reading: reading({ fn_serial: 'NEW' }, []), fn: again }], NOW);
    expect(plan.rows[0]!.reason).toBe('FN swapped without re-registration: serial OLD -> NEW, same RNM and fiscalisation date');
  });

  it('does not flag a new serial that came with a new fiscalisation date (a proper re-registration)', () => {
    const replaced = nextFnTrack(first, reading({ fn_serial: 'NEW', rnm: 'R1' }, [fiscal(2000)]), NOW)!;
    expect(replaced.swap).toBeUndefined();
  });

  it('keeps at most MAX_USAGE_POINTS points', () => {
    let t: FnTrack | undefined;
    for (let i = 0; i < MAX_USAGE_POINTS * 3; i++) t = nextFnTrack(t, reading({ fn_serial: 'S' }, [usage(i)]), NOW + i);
    expect(t!.points).toHaveLength(MAX_USAGE_POINTS);
  });
});

describe('CSV', () => {
  it('quotes per RFC 4180 and guards formula injection', () => {
    expect(csvCell('a,b "c"')).toBe('"a,b ""c"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-1')).toBe("'-1");
    expect(planCsv({ rows: [{ source: 'Shop, "main"', kkt: '@k', store: '', fnSerial: 'F', date: 0, reason: 'expires' }], rateUnknown: 0 }))
      .toBe('store,source,kkt,fn_serial,date,reason\r\n,"Shop, ""main""",\'@k,F,1970-01-01,expires\r\n');
  });

  it('bounds days', () => {
    expect(planDays(undefined)).toEqual({ days: 60 });
    expect(planDays('30')).toEqual({ days: 30 });
    for (const bad of ['0', '3651', 'x', '1e3', ['1', '2']]) expect(planDays(bad)).toHaveProperty('error');
  });
});
