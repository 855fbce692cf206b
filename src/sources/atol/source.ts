import type { AtolSourceConfig } from '../../config/schema.js';
import { deadlineSignal } from '../../http/deadline.js';
import { errorMessage, type Logger } from '../../log.js';
import { readAllPages } from '../paging.js';
import { unreadReading, type ProbeContext, type ProbeResult, type RegisterReading, type RegisterSummary, type ResolvedTarget, type Source, type TargetLookup } from '../source.js';
import { VendorError } from '../vendor-json.js';
import type { AtolClient } from './client.js';
import { parseAtolRegister } from './parse.js';

const SERIAL_RE = /^[0-9A-Za-z_-]{1,64}$/;

/** ATOL Online's cloud monitoring: the whole fleet in a paged list (vendor-apis.md section 2). */
export class AtolSource implements Source {
  readonly type = 'atol' as const;
  /** Serial -> device number, from the last complete list: registers missing later are reported down. */
  private known = new Map<string, string>();

  constructor(
    readonly config: AtolSourceConfig,
    private readonly client: AtolClient,
    private readonly timezone: string,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get timeoutSeconds(): number {
    return (this.config.timeout ?? 0) / 1000;
  }

  registers(): RegisterSummary[] {
    return [...this.known].map(([kkt, detail]) => ({ kkt, detail }));
  }

  lookup(target: string): TargetLookup {
    if (!SERIAL_RE.test(target)) return { ok: false, status: 400, message: `target "${target}" is not an ATOL serial number` };
    return { ok: true, target: { kkt: target, ref: target } };
  }

  probe(ctx: ProbeContext, target?: ResolvedTarget): Promise<ProbeResult> {
    return target ? this.probeOne(ctx, target.kkt) : this.probeFleet(ctx);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private result(started: number, success: boolean, registers: RegisterReading[]): ProbeResult {
    return { source: this.name, success, durationSeconds: (performance.now() - started) / 1000, registers };
  }

  private async probeFleet(ctx: ProbeContext): Promise<ProbeResult> {
    const started = performance.now();
    const signal = deadlineSignal(ctx.deadline);
    // Records are mapped as each page arrives, while the other pages are still on their way.
    const readPage = async (offset: number) => {
      const page = await this.client.page(offset, signal);
      return { ...page, items: page.items.map((raw) => this.toReading(raw, 'list', ctx.log)) };
    };
    let read;
    try {
      read = await readAllPages(readPage, this.config.page_size, this.config.page_concurrency);
    } catch (err) {
      ctx.log.error('cannot read the register list', { err: errorMessage(err) });
      return this.result(started, false, [...this.known.keys()].map((kkt) => unreadReading(kkt, 'list')));
    }
    for (const f of read.failures) ctx.log.error('page of the register list failed', { offset: f.offset, err: f.error });
    const readings = new Map<string, RegisterReading>();
    for (const r of read.items) {
      // A register can appear on two pages when the list shifts during the scrape: count it once.
      if (r && !readings.has(r.kkt)) readings.set(r.kkt, r);
    }
    const complete = read.failures.length === 0;
    if (complete) {
      this.known = new Map([...readings.values()].map((r) => [r.kkt, r.info.device_number ?? '']));
    } else {
      for (const kkt of this.known.keys()) if (!readings.has(kkt)) readings.set(kkt, unreadReading(kkt, 'list'));
    }
    return this.result(started, complete, [...readings.values()]);
  }

  private async probeOne(ctx: ProbeContext, serial: string): Promise<ProbeResult> {
    const started = performance.now();
    try {
      const raw = await this.client.one(serial, deadlineSignal(ctx.deadline));
      const reading = this.toReading(raw, 'register', ctx.log) ?? unreadReading(serial, 'register');
      return this.result(started, reading.up, [reading]);
    } catch (err) {
      const notFound = err instanceof VendorError && err.status === 404;
      ctx.log.warn(notFound ? 'register not found' : 'cannot read the register', { kkt: serial, err: errorMessage(err) });
      return this.result(started, false, [unreadReading(serial, 'register')]);
    }
  }

  private toReading(raw: unknown, endpoint: string, log: Logger): RegisterReading | undefined {
    const parsed = parseAtolRegister(raw, this.timezone, endpoint);
    if (parsed.ok) return parsed.reading;
    log.warn('register record skipped', { kkt: parsed.kkt, err: parsed.error });
    return parsed.kkt ? unreadReading(parsed.kkt, endpoint) : undefined;
  }
}
