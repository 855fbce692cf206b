import { describe, expect, it } from 'vitest';
import { readAllPages, type Page } from './paging.js';

const list = Array.from({ length: 25 }, (_, i) => i);

function pages(opts: { total?: boolean; failAt?: number[] } = {}) {
  const asked: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchPage = async (offset: number): Promise<Page<number>> => {
    asked.push(offset);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    if (opts.failAt?.includes(offset)) throw new Error(`HTTP 500 at ${offset}`);
    const items = list.slice(offset, offset + 10);
    return { items, total: opts.total === false ? undefined : list.length, hasNext: offset + 10 < list.length };
  };
  return { fetchPage, asked, maxInFlight: () => maxInFlight };
}

describe('readAllPages', () => {
  it('reads the first page, then the rest with bounded concurrency, in order', async () => {
    const p = pages();
    const read = await readAllPages(p.fetchPage, 10, 2);
    expect(read.items).toEqual(list);
    expect(read.failures).toEqual([]);
    expect(p.asked.sort((a, b) => a - b)).toEqual([0, 10, 20]);
    expect(p.maxInFlight()).toBeLessThanOrEqual(2);
  });

  it('keeps what the other pages held when one fails', async () => {
    const read = await readAllPages(pages({ failAt: [10] }).fetchPage, 10, 4);
    expect(read.items).toEqual([...list.slice(0, 10), ...list.slice(20)]);
    expect(read.failures).toEqual([{ offset: 10, error: 'HTTP 500 at 10' }]);
  });

  it('follows "next" one page at a time when the vendor gives no total', async () => {
    const p = pages({ total: false });
    const read = await readAllPages(p.fetchPage, 10, 4);
    expect(read.items).toEqual(list);
    expect(p.asked).toEqual([0, 10, 20]);
  });

  it('throws when the first page fails: nothing is known', async () => {
    await expect(readAllPages(pages({ failAt: [0] }).fetchPage, 10, 4)).rejects.toThrow('HTTP 500 at 0');
  });
});
