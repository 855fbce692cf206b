import pLimit from 'p-limit';
import { errorMessage } from '../log.js';
import { checkRegisterCount, RegisterCountError } from './records.js';

export interface Page<T> {
  items: T[];
  /** Items in the whole list, as the vendor states it: checked here, never trusted. */
  total?: number;
  hasNext: boolean;
}

export interface PagingOptions<T> {
  /** Pages read at once when the first page tells the total. */
  concurrency: number;
  /** The most distinct items the list may hold (the source's `max_registers`). */
  maxItems: number;
  /** An item's identity, for telling repeated pages and counting distinct items. */
  keyOf: (item: T) => string | undefined;
  /** Aborted at the deadline: no page is asked after it. */
  signal: AbortSignal;
}

export interface PagedRead<T> {
  items: T[];
  /** Pages after the first that failed; what the others held is still in `items`. */
  failures: Array<{ offset: number; error: string }>;
  /** Why the pages read do not make the whole list although none failed, if they do not. */
  incomplete?: string;
}

/**
 * Reads a paged list. The first page tells the total, which is checked against `maxItems`; the rest
 * are then read `concurrency` at a time, stepping by the items the first page carried. Without a
 * total, pages are read one after another while the vendor says there is a next, until a page
 * brings nothing new, the list passes `maxItems`, or the deadline. Offsets are computed here from
 * what arrived, never from what a page says (its offset, limit or links), and grow with every page:
 * no offset is asked twice.
 * Throws when the first page fails or the list's size is impossible: nothing is known.
 */
export async function readAllPages<T>(fetchPage: (offset: number) => Promise<Page<T>>, opts: PagingOptions<T>): Promise<PagedRead<T>> {
  const first = await fetchPage(0);
  const total = checkedTotal(first.total, opts.maxItems);
  const list = new DistinctItems(opts);
  list.add(first.items);
  if (first.items.length === 0) return list.result(total ? `the first page is empty but the list says it holds ${total}` : undefined);
  if (total === undefined) return followNext(fetchPage, first, list, opts);
  await readPlanned(fetchPage, offsetsUpTo(total, pageStep(first)), list, opts);
  return list.result(list.shortOf(total));
}

/** A stated total that can be planned on; throws RegisterCountError for any other. */
function checkedTotal(total: number | undefined, maxItems: number): number | undefined {
  if (total === undefined) return undefined;
  if (!Number.isSafeInteger(total) || total < 0) throw new RegisterCountError(`the list states an impossible total of ${total} registers`);
  checkRegisterCount(total, maxItems, 'the list states a total of');
  return total;
}

/**
 * How far the next page starts: the items the page carried, whatever `limit` it states (a page of
 * 100 saying `limit: 1` would cost a call per register; one saying more than it sent would leave
 * gaps). At least 1, so offsets always move on.
 */
function pageStep(page: Page<unknown>): number {
  return Math.max(1, page.items.length);
}

function offsetsUpTo(total: number, step: number): number[] {
  const offsets: number[] = [];
  for (let offset = step; offset < total; offset += step) offsets.push(offset);
  return offsets;
}

/** Each page must bring a register not read before, so at most `maxItems` + 1 pages are asked. */
async function followNext<T>(fetchPage: (offset: number) => Promise<Page<T>>, first: Page<T>, list: DistinctItems<T>, opts: PagingOptions<T>): Promise<PagedRead<T>> {
  for (let page = first, offset = pageStep(first); page.hasNext; offset += pageStep(page)) {
    if (opts.signal.aborted) return list.result(`stopped at the scrape deadline before offset ${offset}`);
    try {
      page = await fetchPage(offset);
    } catch (err) {
      list.failures.push({ offset, error: errorMessage(err) });
      break;
    }
    if (page.items.length === 0) break;
    if (list.add(page.items) === 0) return list.result(`the page at offset ${offset} repeats registers already read, yet says there is a next`);
  }
  return list.result();
}

async function readPlanned<T>(fetchPage: (offset: number) => Promise<Page<T>>, offsets: number[], list: DistinctItems<T>, opts: PagingOptions<T>): Promise<void> {
  const limit = pLimit(opts.concurrency);
  const pages = await Promise.all(
    offsets.map((offset) =>
      limit(async () => {
        if (opts.signal.aborted) {
          list.skipped++;
          return [];
        }
        try {
          return (await fetchPage(offset)).items;
        } catch (err) {
          list.failures.push({ offset, error: errorMessage(err) });
          return [];
        }
      }),
    ),
  );
  for (const items of pages) list.add(items);
  list.failures.sort((a, b) => a.offset - b.offset);
}

/** The items read so far, with their distinct keys, bounded by `maxItems`. */
class DistinctItems<T> {
  readonly items: T[] = [];
  readonly failures: PagedRead<T>['failures'] = [];
  /** Pages not asked because the deadline came first. */
  skipped = 0;
  private readonly keys = new Set<string>();

  constructor(private readonly opts: PagingOptions<T>) {}

  /** Adds a page's items; returns how many were not read before. Throws past `maxItems`. */
  add(page: T[]): number {
    const before = this.keys.size;
    for (const item of page) {
      const key = this.opts.keyOf(item);
      if (key !== undefined) this.keys.add(key);
      this.items.push(item);
    }
    checkRegisterCount(this.keys.size, this.opts.maxItems, 'the pages hold at least');
    return this.keys.size - before;
  }

  /** Why the list holds fewer distinct items than `total`, when it does and no page failed. */
  shortOf(total: number): string | undefined {
    if (this.failures.length > 0 || this.keys.size >= total) return undefined;
    return `the pages held ${this.keys.size} distinct registers, the list says it holds ${total}`;
  }

  result(incomplete?: string): PagedRead<T> {
    const why = this.skipped > 0 ? `stopped at the scrape deadline: ${this.skipped} pages not asked` : incomplete;
    return { items: this.items, failures: this.failures, ...(why ? { incomplete: why } : {}) };
  }
}
