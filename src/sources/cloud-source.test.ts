import { DateTime } from 'luxon';
import { describe, expect, it, vi } from 'vitest';
import type { AtolSourceConfig } from './atol/config.js';
import type { BusinessKassaSourceConfig } from './businesskassa/config.js';
import type { Kassa24SourceConfig } from './kassa24/config.js';
import { Deadline } from '../deadline/deadline.js';
import { Logger, type LogRecord } from '../log.js';
import type { BusinessKassaClient } from './businesskassa/client.js';
import { BusinessKassaSource } from './businesskassa/source.js';
import { CloudSource, FLEET_LOOKUP_REUSE_MS, type FleetReadContext } from './cloud-source.js';
import type { Kassa24Client } from './kassa24/client.js';
import { Kassa24Source } from './kassa24/source.js';
import { XReportCache } from './kassa24/xreport-cache.js';
import { type ReadContext } from './source.js';
import { sourceReading, readingOf, type SourceReading, type RegisterReading } from '../readings/reading.js';
import { tradingHours } from '../config/trading-hours.js';
import { KnownRegistersBySource } from './records.js';

const noClient = { close: async () => {} };

/** Resolves after `ms`, or rejects when `signal` aborts first, as a vendor request does. */
function vendorCall(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

/** A cloud source whose fleet read is whatever the test says, counting the reads. */
class FakeFleetSource extends CloudSource<AtolSourceConfig, string> {
  readonly type = 'atol' as const;
  protected readonly targetHelp = 'anything';
  protected readonly fleetEndpoint = 'list';
  reads: FleetReadContext[] = [];

  constructor(public listFleet: (ctx: FleetReadContext) => Promise<string[]>, config: Partial<AtolSourceConfig> = {}) {
    super({ name: 'fake', type: 'atol', url: 'http://127.0.0.1', login: 'l', password: 'p', page_size: 100, page_concurrency: 4, max_registers: 100, probe_only: false, ...config }, noClient, 'UTC', () => '');
  }

  protected targetRef(target: string): string {
    return target;
  }

  protected async readFleet(ctx: FleetReadContext): Promise<SourceReading> {
    const started = performance.now();
    this.reads.push(ctx);
    try {
      const readings = (await this.listFleet(ctx)).map((kkt) => readingOf(kkt, 'list', {}, {}));
      return sourceReading(this.name, started, true, this.roster.account(readings, true, 'list'));
    } catch (err) {
      return this.failedListReading(ctx, started, err);
    }
  }

  protected readOne(): Promise<SourceReading> {
    throw new Error('not used');
  }
}

function scrape(source: { read(ctx: ReadContext): Promise<SourceReading> }, deadlineMs = 2000) {
  const logs: LogRecord[] = [];
  const ctx: ReadContext = { deadline: Deadline.in(deadlineMs), log: new Logger((r) => logs.push(r), 'debug') };
  return { result: source.read(ctx), logs };
}

const upOf = (result: SourceReading) => Object.fromEntries(result.registers.map((r) => [r.kkt, r.up]));

describe('CloudSource: concurrent scrapes share one fleet read', () => {
  it('50 concurrent scrapes cost one fleet read; each gets every reading', async () => {
    const source = new FakeFleetSource(async (ctx) => {
      await vendorCall(30, ctx.signal);
      return ['a', 'b', 'c'];
    });
    const scrapes = Array.from({ length: 50 }, () => scrape(source));
    const results = await Promise.all(scrapes.map((s) => s.result));
    expect(source.reads).toHaveLength(1);
    expect(results.every((r) => r.success && r.registers.map((x) => x.kkt).join() === 'a,b,c')).toBe(true);

    await scrape(source).result;
    expect(source.reads).toHaveLength(2); // a scrape after the read ended starts a new one
  });

  it('a later scrape keeps the read going past the first scrape\'s deadline; the first stops waiting at its own', async () => {
    const source = new FakeFleetSource(async () => ['a', 'b']);
    await scrape(source).result;
    source.listFleet = async (ctx) => {
      await vendorCall(400, ctx.signal);
      return ['a', 'b'];
    };
    const t0 = performance.now();
    const early = scrape(source, 50);
    const late = scrape(source, 2000);
    const first = await early.result;
    expect(performance.now() - t0).toBeLessThan(350);
    expect(first.success).toBe(false);
    expect(upOf(first)).toEqual({ a: false, b: false });
    expect(early.logs.some((l) => l.level === 'error' && l.fields.err === 'scrape deadline reached')).toBe(true);
    const second = await late.result;
    expect(second.success).toBe(true);
    expect(upOf(second)).toEqual({ a: true, b: true });
    expect(source.reads).toHaveLength(2);
  });

  it('the read sees the latest deadline among its scrapes, and is aborted only when that has passed', async () => {
    let abortedAt = 0;
    const source = new FakeFleetSource(async (ctx) => {
      ctx.signal.addEventListener('abort', () => (abortedAt = performance.now()));
      await vendorCall(10_000, ctx.signal);
      return [];
    });
    const early = scrape(source, 30);
    const late = scrape(source, 400);
    const lateDeadline = performance.now() + 400;
    expect(source.reads[0]?.deadline.at).toBeGreaterThan(performance.now() + 300);
    await early.result;
    expect(source.reads[0]?.signal.aborted).toBe(false);
    expect((await late.result).success).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    expect(source.reads[0]?.signal.reason).toEqual(new Error('scrape deadline reached'));
    expect(abortedAt).toBeGreaterThanOrEqual(lateDeadline - 5);
  });
});

/** A source whose `/probe` targets can need the fleet (as BusinessKassa's serials do). */
class LookupSource extends FakeFleetSource {
  protected override readonly lookupsNeedFleet = true;

  lookupInFleet(): Promise<SourceReading | undefined> {
    return this.fleetForLookup({ deadline: Deadline.in(2000), log: new Logger(() => {}, 'debug') });
  }
}

describe('CloudSource: lookups that need the fleet cost at most one fleet read per FLEET_LOOKUP_REUSE_MS', () => {
  it('20 concurrent lookups share one read; later ones reuse it until it is FLEET_LOOKUP_REUSE_MS old; a scrape always reads', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const source = new LookupSource(async (ctx) => {
        await vendorCall(20, ctx.signal);
        return ['a'];
      });
      const found = await Promise.all(Array.from({ length: 20 }, () => source.lookupInFleet()));
      expect(found.every((r) => r?.registers[0]?.kkt === 'a')).toBe(true);
      expect(source.reads).toHaveLength(1);
      vi.advanceTimersByTime(FLEET_LOOKUP_REUSE_MS - 100);
      await source.lookupInFleet();
      expect(source.reads).toHaveLength(1);
      await scrape(source).result;
      expect(source.reads).toHaveLength(2);
      vi.advanceTimersByTime(FLEET_LOOKUP_REUSE_MS + 1);
      await source.lookupInFleet();
      expect(source.reads).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('CloudSource: max_registers bounds the lists vendors send', () => {
  const errors = (logs: LogRecord[]) => logs.filter((l) => l.level === 'error').map((l) => String(l.fields.err));

  it('BusinessKassa: a GET /frs listing more than max_registers fails the source; known registers go down', async () => {
    let frs = [{ sn: 'A1', eip: '10.0.0.1:1' }, { sn: 'A2', eip: '10.0.0.2:1' }];
    const client = { fleet: async () => frs, close: async () => {} } as unknown as BusinessKassaClient;
    const config: BusinessKassaSourceConfig = { name: 'bk', type: 'businesskassa', url: 'http://127.0.0.1', auth: {}, circuits: [], circuit_path: '/fcircuit/{inn}', max_registers: 2, probe_only: false };
    const source = new BusinessKassaSource(config, client, 'UTC');
    expect((await scrape(source).result).success).toBe(true);
    frs = [...frs, { sn: 'A3', eip: '10.0.0.3:1' }];
    const s = scrape(source);
    const result = await s.result;
    expect(result.success).toBe(false);
    expect(upOf(result)).toEqual({ A1: false, A2: false });
    expect(errors(s.logs)).toEqual(['GET /frs lists 3 registers, more than max_registers (2)']);
  });

  it('Kassa24: a GET /kkms listing more than max_registers fails the source before any register is read', async () => {
    let registerCalls = 0;
    const client = {
      signIn: async () => {},
      registers: async () => [{ Id: 1 }, { Id: 2 }, { Id: 3 }],
      register: async () => {
        registerCalls++;
        throw new Error('not expected');
      },
      close: async () => {},
    } as unknown as Kassa24Client;
    const config: Kassa24SourceConfig = {
      name: 'kz', type: 'kassa24', url: 'http://127.0.0.1', login: 'l', password: 'p', concurrency: 8, max_registers: 2, probe_only: false, blocked_from_lock: false,
      xreport: { enabled: false, min_interval: 900_000, method: 'POST', path: '/shifts/{shift}/x' },
    };
    const s = scrape(new Kassa24Source(config, client, 'UTC', new XReportCache()));
    expect((await s.result).success).toBe(false);
    expect(registerCalls).toBe(0);
    expect(errors(s.logs)).toEqual(['GET /kkms lists 3 registers, more than max_registers (2)']);
  });
});

describe('CloudSource: kkt_source_up', () => {
  it('is down when the register list cannot be read, and when it is still being read at the deadline; up otherwise', async () => {
    let fail = false;
    const source = new FakeFleetSource(async (ctx) => {
      if (fail) throw new Error('HTTP 500');
      await vendorCall(ctx.deadline.at - performance.now() > 100 ? 0 : 300, ctx.signal);
      return ['a'];
    });
    expect((await scrape(source).result).sourceUp).toBeUndefined();
    fail = true;
    const failed = await scrape(source).result;
    expect([failed.sourceUp, upOf(failed), failed.error]).toEqual([false, { a: false }, 'cannot read the register list: HTTP 500']);
    fail = false;
    const late = await scrape(source, 50).result;
    expect([late.sourceUp, upOf(late)]).toEqual([false, { a: false }]);
  });

  it('BusinessKassa: GET /frs failing is the source down', async () => {
    const client = { fleet: async () => { throw new Error('HTTP 503'); }, close: async () => {} } as unknown as BusinessKassaClient;
    const config: BusinessKassaSourceConfig = { name: 'bk', type: 'businesskassa', url: 'http://127.0.0.1', auth: {}, circuits: [], circuit_path: '/fcircuit/{inn}', max_registers: 2, probe_only: false };
    expect((await scrape(new BusinessKassaSource(config, client, 'UTC')).result).sourceUp).toBe(false);
  });
});

describe('CloudSource: kkt_trading', () => {
  const tradingOf = (r: RegisterReading) => r.samples.filter((s) => s.metric === 'kkt_trading').map((s) => s.value);
  /** Open from an hour ago to an hour from now on the Vladivostok clock: 7 hours off it, Moscow is outside. */
  const vladivostokNow = () => {
    const local = DateTime.now().setZone('Asia/Vladivostok').setLocale('en-US');
    const [from, to] = [local.minus({ hours: 1 }), local.plus({ hours: 1 })];
    return tradingHours.parse({ [from.toFormat('ccc').toLowerCase()]: `${from.toFormat('HH:mm')}-${to.toFormat('HH:mm')}` });
  };

  it('gives every reading, known-but-unread ones included, the source\'s hours in the stores\' zone, once per reading', async () => {
    let fail = false;
    const source = new FakeFleetSource(async () => {
      if (fail) throw new Error('down');
      return ['a', 'b'];
    }, { trading_hours: vladivostokNow() });
    source.attach({ known: new KnownRegistersBySource().of('fake'), storesZone: 'Asia/Vladivostok' });
    const [one, two] = await Promise.all([scrape(source).result, scrape(source).result]);
    expect(one?.registers.map(tradingOf)).toEqual([[1], [1]]);
    expect(two?.registers.map(tradingOf)).toEqual([[1], [1]]);
    fail = true;
    const down = await scrape(source).result;
    expect(down.registers.map((r) => [r.kkt, r.up, tradingOf(r)])).toEqual([['a', false, [1]], ['b', false, [1]]]);

    source.attach({ known: new KnownRegistersBySource().of('fake'), storesZone: 'Europe/Moscow' });
    fail = false;
    expect((await scrape(source).result).registers.map(tradingOf)).toEqual([[0], [0]]);
  });

  it('is 1 when the source has no hours', async () => {
    const result = await scrape(new FakeFleetSource(async () => ['a'])).result;
    expect(result.registers.map(tradingOf)).toEqual([[1]]);
  });
});

describe('CloudSource: the known registers outlive a reload of the same source name', () => {
  it('a source built anew knows its predecessor\'s registers and reports them down while the vendor fails; a removed source\'s are dropped', async () => {
    const store = new KnownRegistersBySource();
    const before = new FakeFleetSource(async () => ['a', 'b']);
    before.attach({ known: store.of('fake'), storesZone: 'UTC' });
    await scrape(before).result;

    const after = new FakeFleetSource(async () => { throw new Error('HTTP 500'); });
    after.attach({ known: store.of('fake'), storesZone: 'UTC' });
    expect(after.registers().map((r) => r.kkt)).toEqual(['a', 'b']);
    expect(upOf(await scrape(after).result)).toEqual({ a: false, b: false });

    store.retain(new Set(['other']));
    const readded = new FakeFleetSource(async () => { throw new Error('HTTP 500'); });
    readded.attach({ known: store.of('fake'), storesZone: 'UTC' });
    expect(readded.registers()).toEqual([]);
    expect((await scrape(readded).result).registers).toEqual([]);
  });
});
