import { describe, expect, it } from 'vitest';
import type { Sample } from '../../readings/reading.js';
import { VendorError } from '../vendor-json.js';
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

  it('calls only the wrong-cashier 403 a refusal; a blocked register is blocked; any other 403 is a failure', async () => {
    const attempt = (message: string) => new XReportCache().get('r1', 7, 60_000, async () => {
      throw new VendorError(`HTTP 403: ${message}`, 403);
    });
    expect(await attempt('Указан неверный идентификатор смены')).toMatchObject({ refused: true, error: 'HTTP 403: Указан неверный идентификатор смены' });
    const blocked = await attempt('Forbidden: касса заблокирова на');
    expect(blocked).toMatchObject({ blocked: true });
    expect(blocked.refused).toBeUndefined();
    const other = await attempt('Forbidden: Доступ к указанному ресурсу закрыт.');
    expect(other).toMatchObject({ error: 'HTTP 403: Forbidden: Доступ к указанному ресурсу закрыт.' });
    expect(other.refused ?? other.blocked).toBeUndefined();
  });

  it('warns of a refusal once per shift, of any other failure once per attempt', async () => {
    const cache = new XReportCache();
    const refuse = async (): Promise<Sample[]> => {
      throw new VendorError('HTTP 403: Указан неверный идентификатор смены', 403);
    };
    const first = await cache.get('r1', 7, 0, refuse);
    expect(cache.isNews('r1', first)).toBe(true);
    expect(cache.isNews('r1', await cache.get('r1', 7, 0, refuse))).toBe(false);
    const fail = async (): Promise<Sample[]> => {
      throw new VendorError('HTTP 403: Forbidden: Доступ к указанному ресурсу закрыт.', 403);
    };
    const a = await cache.get('r2', 7, 0, fail);
    expect(cache.isNews('r2', a)).toBe(true);
    expect(cache.isNews('r2', a)).toBe(false);
    expect(cache.isNews('r2', await cache.get('r2', 7, 0, fail))).toBe(true);
  });

  it('peek shows the cached X-report of the shift without taking one, however old', async () => {
    const cache = new XReportCache();
    const t = taker();
    expect(cache.peek('r1', 7)).toBeUndefined();
    const taken = await cache.get('r1', 7, 10, t.take);
    await new Promise((r) => setTimeout(r, 20)); // past its interval: get() would take a new one
    expect(cache.peek('r1', 7)).toBe(taken);
    expect(cache.peek('r1', 8)).toBeUndefined();
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
