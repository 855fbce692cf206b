import { describe, expect, it } from 'vitest';
import type { Sample } from '../../readings/reading.js';
import { XReportCache } from './xreport-cache.js';

const SAMPLES: Sample[] = [{ metric: 'kkt_xreport_all_operations', value: 3 }];

function taker(result: () => Promise<Sample[]> = async () => SAMPLES) {
  let calls = 0;
  return { take: () => (calls++, result()), calls: () => calls };
}

describe('XReportCache', () => {
  it('takes one X-report per shift per interval, however often it is asked', async () => {
    const cache = new XReportCache();
    const t = taker();
    for (let i = 0; i < 10; i++) expect((await cache.get('r1', 7, 60_000, t.take)).samples).toEqual(SAMPLES);
    expect(t.calls()).toBe(1);
  });

  it('shares the X-report being taken between concurrent scrapes', async () => {
    const cache = new XReportCache();
    const t = taker(() => new Promise((r) => setTimeout(() => r(SAMPLES), 20)));
    await Promise.all(Array.from({ length: 5 }, () => cache.get('r1', 7, 60_000, t.take)));
    expect(t.calls()).toBe(1);
  });

  it('takes a new one for a new shift, or when the interval has passed', async () => {
    const cache = new XReportCache();
    const t = taker();
    await cache.get('r1', 7, 60_000, t.take);
    await cache.get('r1', 8, 60_000, t.take);
    expect(t.calls()).toBe(2);
    await new Promise((r) => setTimeout(r, 30));
    await cache.get('r1', 8, 20, t.take);
    expect(t.calls()).toBe(3);
  });

  it('waits out the interval after a failure too: the failed call may have made a fiscal document', async () => {
    const cache = new XReportCache();
    const t = taker(async () => {
      throw new Error('Status 410: Данная смена уже закрыта');
    });
    expect(await cache.get('r1', 7, 60_000, t.take)).toMatchObject({ error: 'Status 410: Данная смена уже закрыта' });
    await cache.get('r1', 7, 60_000, t.take);
    expect(t.calls()).toBe(1);
  });

  it('forgets a register whose shift closed', async () => {
    const cache = new XReportCache();
    const t = taker();
    await cache.get('r1', 7, 60_000, t.take);
    cache.drop('r1');
    await cache.get('r1', 7, 60_000, t.take);
    expect(t.calls()).toBe(2);
  });
});
