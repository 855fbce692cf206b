import pLimit from 'p-limit';
import { errorMessage } from '../log.js';

export interface Page<T> {
  items: T[];
  /** Items in the whole list, when the vendor says. */
  total?: number;
  hasNext: boolean;
}

export interface PagedRead<T> {
  items: T[];
  /** Pages after the first that failed; what the others held is still in `items`. */
  failures: Array<{ offset: number; error: string }>;
}

/**
 * Reads a paged list: the first page tells the total, then the rest are read `concurrency` at a
 * time. Without a total, pages are read one after another while the vendor says there is a next.
 * A failed first page throws: nothing is known.
 */
export async function readAllPages<T>(fetchPage: (offset: number) => Promise<Page<T>>, pageSize: number, concurrency: number): Promise<PagedRead<T>> {
  const first = await fetchPage(0);
  const items = [...first.items];
  const failures: PagedRead<T>['failures'] = [];
  if (first.total === undefined) {
    for (let offset = pageSize, page = first; page.hasNext && page.items.length > 0; offset += pageSize) {
      try {
        page = await fetchPage(offset);
        items.push(...page.items);
      } catch (err) {
        failures.push({ offset, error: errorMessage(err) });
        break;
      }
    }
    return { items, failures };
  }
  const offsets: number[] = [];
  for (let offset = pageSize; offset < first.total; offset += pageSize) offsets.push(offset);
  const limit = pLimit(concurrency);
  const pages = await Promise.all(
    offsets.map((offset) =>
      limit(async () => {
        try {
          return (await fetchPage(offset)).items;
        } catch (err) {
          failures.push({ offset, error: errorMessage(err) });
          return [];
        }
      }),
    ),
  );
  for (const page of pages) items.push(...page);
  failures.sort((a, b) => a.offset - b.offset);
  return { items, failures };
}
