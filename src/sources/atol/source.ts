import type { AtolSourceConfig } from './config.js';
import { errorMessage } from '../../log.js';
import { readAllPages } from '../paging.js';
import { CloudSource, type FleetReadContext } from '../cloud-source.js';
import { MALFORMED_RECORDS, recordReading } from '../records.js';
import { type ReadContext } from '../source.js';
import { sourceReading, unreadReading, type SourceReading } from '../../readings/reading.js';
import { VendorError } from '../vendor-json.js';
import type { AtolClient } from './client.js';
import { parseAtolRegister } from './parse.js';

const SERIAL_RE = /^[0-9A-Za-z_-]{1,64}$/;

/** ATOL Online's cloud monitoring: the whole fleet in a paged list (README, "How the ATOL Online fleet is read"). */
export class AtolSource extends CloudSource<AtolSourceConfig, string> {
  readonly type = 'atol' as const;
  protected readonly targetHelp = 'an ATOL serial number';
  protected readonly fleetEndpoint = 'list';

  constructor(config: AtolSourceConfig, protected override readonly client: AtolClient, timezone: string) {
    super(config, client, timezone, (r) => r.info.device_number ?? '');
  }

  protected targetRef(target: string): string | undefined {
    return SERIAL_RE.test(target) ? target : undefined;
  }

  protected async readFleet(ctx: FleetReadContext): Promise<SourceReading> {
    const started = performance.now();
    // Records are mapped as each page arrives, while the other pages are still on their way.
    const readPage = async (offset: number) => {
      const page = await this.client.page(offset, ctx.signal);
      return { ...page, items: page.items.map((raw) => recordReading(parseAtolRegister(raw, this.timezone, 'list'), 'list', ctx.log)) };
    };
    let read;
    try {
      read = await readAllPages(readPage, {
        concurrency: this.config.page_concurrency,
        maxItems: this.config.max_registers,
        keyOf: (r) => r?.kkt,
        signal: ctx.signal,
      });
    } catch (err) {
      return this.failedListReading(ctx, started, err);
    }
    for (const f of read.failures) ctx.log.error('page of the register list failed', { offset: f.offset, err: f.error });
    if (read.incomplete) ctx.log.error('the register list is incomplete', { err: read.incomplete });
    // A failed page, a list that does not add up or a malformed record leaves the list incomplete.
    const complete = read.failures.length === 0 && !read.incomplete && read.items.every((r) => r?.up);
    const error = read.failures[0] ? `page at offset ${read.failures[0].offset} failed: ${read.failures[0].error}` : read.incomplete ? `the register list is incomplete: ${read.incomplete}` : undefined;
    return sourceReading(this.name, started, complete, this.roster.account(read.items, complete, this.fleetEndpoint), error ?? (complete ? undefined : MALFORMED_RECORDS));
  }

  protected async readOne(ctx: ReadContext, serial: string): Promise<SourceReading> {
    const started = performance.now();
    try {
      const raw = await this.client.one(serial, ctx.deadline.signal);
      const reading = recordReading(parseAtolRegister(raw, this.timezone, 'register'), 'register', ctx.log) ?? unreadReading(serial, 'register', 'malformed register record');
      return sourceReading(this.name, started, reading.up, [reading], reading.error);
    } catch (err) {
      const notFound = err instanceof VendorError && err.status === 404;
      const error = notFound ? 'register not found' : `cannot read the register: ${errorMessage(err)}`;
      ctx.log.detail().warn(notFound ? 'register not found' : 'cannot read the register', { kkt: serial, err: errorMessage(err) });
      return sourceReading(this.name, started, false, [unreadReading(serial, 'register', error)], error);
    }
  }
}
