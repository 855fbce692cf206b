import { describe, expect, it } from 'vitest';
import { readAllPages, type Page, type PagingOptions } from './paging.js';
import { RegisterCountError } from './records.js';

const list = Array.from({ length: 25 }, (_, i) => i);

interface VendorOptions {
  /** The total the vendor states; default the list's length, `null` for none. */
  total?: number | null;
  /** The vendor serves at most this many per page, whatever is asked. */
  cap?: number;
  failAt?: number[];
}

/** A vendor paging `list` with the given behaviour, counting what it is asked. */
function pages(opts: VendorOptions = {}) {
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
    const served = Math.min(10, opts.cap ?? 10);
    const items = list.slice(offset, offset + served);
    const total = opts.total === undefined ? list.length : (opts.total ?? undefined);
    return { items, total, hasNext: offset + served < list.length };
  };
  return { fetchPage, asked, maxInFlight: () => maxInFlight };
}

const options = (extra: Partial<PagingOptions<number>> = {}): PagingOptions<number> => ({
  concurrency: 4,
  maxItems: 1000,
  keyOf: String,
  signal: new AbortController().signal,
  ...extra,
});

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('readAllPages', () => {
  it('reads the first page, then the rest with bounded concurrency, in order', async () => {
    const p = pages();
    const read = await readAllPages(p.fetchPage, options({ concurrency: 2 }));
    expect(read).toEqual({ items: list, failures: [] });
    expect(sorted(p.asked)).toEqual([0, 10, 20]);
    expect(p.maxInFlight()).toBeLessThanOrEqual(2);
  });

  it('keeps what the other pages held when one fails', async () => {
    const read = await readAllPages(pages({ failAt: [10] }).fetchPage, options());
    expect(read.items).toEqual([...list.slice(0, 10), ...list.slice(20)]);
    expect(read.failures).toEqual([{ offset: 10, error: 'HTTP 500 at 10' }]);
  });

  it('follows "next" one page at a time when the vendor gives no total', async () => {
    const p = pages({ total: null });
    const read = await readAllPages(p.fetchPage, options());
    expect(read).toEqual({ items: list, failures: [] });
    expect(p.asked).toEqual([0, 10, 20]);
  });

  it('throws when the first page fails: nothing is known', async () => {
    await expect(readAllPages(pages({ failAt: [0] }).fetchPage, options())).rejects.toThrow('HTTP 500 at 0');
  });
});

describe('readAllPages against a vendor that states sizes it cannot have', () => {
  it.each([1_000_000_000, 1e15])('refuses a total of %d above the ceiling after the first page, planning nothing', async (total) => {
    const p = pages({ total });
    await expect(readAllPages(p.fetchPage, options({ maxItems: 100_000 }))).rejects.toThrow(
      new RegisterCountError(`the list states a total of ${total} registers, more than max_registers (100000)`),
    );
    expect(p.asked).toEqual([0]);
  });

  it.each([-1, 2.5, Number.NaN, 2 ** 60])('refuses the impossible total %d', async (total) => {
    const p = pages({ total });
    await expect(readAllPages(p.fetchPage, options())).rejects.toThrow(/impossible total/);
    expect(p.asked).toEqual([0]);
  });

  it('reports a list whose pages end with fewer distinct items than its total', async () => {
    const read = await readAllPages(pages({ total: 30 }).fetchPage, options());
    expect(read.incomplete).toBe('the pages held 25 distinct registers, the list says it holds 30');
  });

  it('reports a first page that is empty though the total says otherwise', async () => {
    const read = await readAllPages(async () => ({ items: [], total: 25, hasNext: true }), options());
    expect(read.incomplete).toMatch(/first page is empty/);
  });
});

describe('readAllPages steps by what a page carried', () => {
  it('pages by the items a page carried when the vendor serves fewer than asked (the ATOL client drops the limit a page states)', async () => {
    const p = pages({ cap: 4 });
    const read = await readAllPages(p.fetchPage, options());
    expect(read).toEqual({ items: list, failures: [] });
    expect(sorted(p.asked)).toEqual([0, 4, 8, 12, 16, 20, 24]);
  });

  it('pages by the items returned without a total too', async () => {
    const p = pages({ cap: 4, total: null });
    expect((await readAllPages(p.fetchPage, options())).items).toEqual(list);
    expect(p.asked).toEqual([0, 4, 8, 12, 16, 20, 24]);
  });
});

describe('readAllPages against an endless "next"', () => {
  it('stops at the second page when a page repeats the records already read (a page pointing to itself)', async () => {
    const asked: number[] = [];
    const read = await readAllPages(async (offset) => {
      asked.push(offset);
      return { items: list.slice(0, 10), hasNext: true };
    }, options());
    expect(asked).toEqual([0, 10]);
    expect(read.incomplete).toBe('the page at offset 10 repeats registers already read, yet says there is a next');
  });

  it('stops an endless run of fresh pages once the list passes the ceiling: ceiling / page + 1 pages', async () => {
    const asked: number[] = [];
    const fresh = async (offset: number): Promise<Page<number>> => {
      asked.push(offset);
      return { items: Array.from({ length: 10 }, (_, i) => offset + i), hasNext: true };
    };
    await expect(readAllPages(fresh, options({ maxItems: 95 }))).rejects.toThrow(/the pages hold at least 100 registers, more than max_registers \(95\)/);
    expect(asked).toHaveLength(10);
  });

  it('asks no page after the deadline, following "next"', async () => {
    const deadline = new AbortController();
    const asked: number[] = [];
    const read = await readAllPages(async (offset) => {
      asked.push(offset);
      if (offset === 3) deadline.abort();
      return { items: [offset], hasNext: true };
    }, options({ signal: deadline.signal }));
    expect(asked).toEqual([0, 1, 2, 3]);
    expect(read.incomplete).toBe('stopped at the scrape deadline before offset 4');
  });

  it('asks no page after the deadline when the total is known', async () => {
    const deadline = new AbortController();
    const p = pages();
    const read = await readAllPages(async (offset) => {
      const page = await p.fetchPage(offset);
      deadline.abort();
      return page;
    }, options({ concurrency: 1, signal: deadline.signal }));
    expect(p.asked).toEqual([0]);
    expect(read.incomplete).toBe('stopped at the scrape deadline: 2 pages not asked');
  });
});
