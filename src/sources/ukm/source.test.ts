import { DateTime } from 'luxon';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { mswTransport } from '../../../test/support/msw-transport.js';
import { UKM_ENDPOINTS, type UkmSourceConfig } from './config.js';
import { tradingHours } from '../../config/trading-hours.js';
import { SourceHttp, type RequestObserver } from '../../http/client.js';
import { Deadline } from '../../deadline/deadline.js';
import type { HttpRequest } from '../../http/transport.js';
import { silentLogger } from '../../log.js';
import type { RegisterReading } from '../../readings/reading.js';
import { UkmRegisterPool } from './reads.js';
import { UkmSource } from './source.js';

const BASE = 'http://10.1.12.3:8080';
type Answers = Record<string, { status: number; body?: string } | 'error'>;

function handlersFor(base: string, answers: Answers) {
  return [
    http.get(`${base}/api/v1/status/:endpoint`, ({ params }) => {
      const a = answers[params.endpoint as string];
      if (!a) return new HttpResponse(null, { status: 404 });
      if (a === 'error') return HttpResponse.error();
      return new HttpResponse(a.body ?? null, { status: a.status });
    }),
  ];
}

const config = (overrides: Partial<UkmSourceConfig> = {}): UkmSourceConfig => ({
  name: 'stores',
  type: 'ukm',
  probe_only: false,
  endpoints: [...UKM_ENDPOINTS],
  min_interval: 1, // unit tests only: the schema refuses anything under 1s
  request_timeout: 1000,
  allowed_targets: ['10.0.0.0/8'],
  registers: [{ name: 'msk-012-pos03', url: BASE, labels: { store: '012' } }],
  ...overrides,
});

function makeSource(answers: Answers, cfg = config(), log: HttpRequest[] = [], pool = new UkmRegisterPool()) {
  const codes: string[] = [];
  const observer: RequestObserver = { request: (_s, e, c) => codes.push(`${e}=${c}`), rateLimitWait() {}, auth() {} };
  const http = new SourceHttp(cfg.name, mswTransport(handlersFor(BASE, answers), log), observer);
  return { source: new UkmSource(cfg, { http, pool, timezone: 'Europe/Moscow' }), codes, log };
}

/** What the register answered: every sample but the trading-hours gauge, which comes from the config. */
const values = (r: RegisterReading) => Object.fromEntries(r.samples.filter((s) => s.metric !== 'kkt_trading').map((s) => [s.metric, s.value]));
const tradingOf = (r: RegisterReading) => r.samples.find((s) => s.metric === 'kkt_trading')?.value;
const failed = (r: RegisterReading) => r.endpoints.filter((e) => !e.success).map((e) => e.endpoint);

const HEALTHY: Answers = {
  paper: { status: 200 },
  ofd: { status: 200, body: '3' },
  last_receipt_time: { status: 204 },
  downtime: { status: 200, body: '2026-11-22 12:00:00' },
  user_role_id: { status: 200, body: '{"value": 7}' },
  vision: { status: 204 },
  weight: { status: 200, body: '0.350' },
};

describe('UkmSource through msw handlers', () => {
  it('maps all seven endpoints of a healthy register', async () => {
    const { source, codes } = makeSource(HEALTHY);
    const result = await source.read({ deadline: Deadline.in(5000), log: silentLogger });
    expect(result.success).toBe(true);
    const [r] = result.registers as [RegisterReading];
    expect(r).toMatchObject({ kkt: 'msk-012-pos03', up: true, labels: { store: '012' }, info: { url: BASE } });
    expect(values(r)).toEqual({
      kkt_paper_present: 1,
      kkt_unsent_docs: 3,
      kkt_receipt_open: 0,
      kkt_receipt_last_closed_timestamp_seconds: Date.parse('2026-11-22T09:00:00Z') / 1000,
      kkt_user_role_id: 7,
      kkt_vision_connected: 0,
      kkt_scale_weight: 0.35,
    });
    expect(failed(r)).toEqual([]);
    expect(codes).toEqual(['paper=200', 'ofd=200', 'last_receipt_time=204', 'downtime=200', 'user_role_id=200', 'vision=204', 'weight=200']);
  });

  it('reads only the configured endpoints, in priority order', async () => {
    const { source, log } = makeSource(HEALTHY, config({ endpoints: ['weight', 'paper'] }));
    await source.read({ deadline: Deadline.in(5000), log: silentLogger });
    expect(log.map((r) => r.url.split('/').pop())).toEqual(['weight', 'paper']);
    expect(log.every((r) => r.method === 'GET')).toBe(true);
  });

  it('fails one endpoint on a bad body and keeps the others', async () => {
    const { source } = makeSource({ ...HEALTHY, ofd: { status: 200, body: '<html>Service Unavailable</html>' }, vision: { status: 500 } });
    const [r] = (await source.read({ deadline: Deadline.in(5000), log: silentLogger })).registers as [RegisterReading];
    expect(r.up).toBe(true);
    expect(failed(r)).toEqual(['ofd', 'vision']);
    expect(values(r)).not.toHaveProperty('kkt_unsent_docs');
    expect(values(r)).toMatchObject({ kkt_paper_present: 1, kkt_user_role_id: 7 });
  });

  it('gives up on a register that refuses the connection instead of asking every endpoint', async () => {
    const unreachable = config({ registers: [{ name: 'dead', url: 'http://10.9.9.9:8080', labels: {} }] });
    const { source, log } = makeSource(HEALTHY, unreachable);
    const { registers, success } = await source.read({ deadline: Deadline.in(5000), log: silentLogger });
    const r = registers[0] as RegisterReading;
    expect(success).toBe(false);
    expect(r.up).toBe(false);
    // Down, it still says whether it should be trading: the alerts read that beside kkt_up 0.
    expect(r.samples).toEqual([{ metric: 'kkt_trading', value: 1 }]);
    expect(failed(r)).toEqual([...UKM_ENDPOINTS]);
    expect(log).toHaveLength(1);
  });

  it('reports what the deadline cut off as failed, having read paper and ofd first', async () => {
    const { source, log } = makeSource(HEALTHY, config({ min_interval: 150 }));
    const [r] = (await source.read({ deadline: Deadline.in(250), log: silentLogger })).registers as [RegisterReading];
    expect(log.map((x) => x.url.split('/').pop())).toEqual(['paper', 'ofd']);
    expect(failed(r)).toEqual(['last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight']);
    expect(values(r)).toEqual({ kkt_paper_present: 1, kkt_unsent_docs: 3 });
  });

  it('lets concurrent scrapes share the read in flight: each endpoint is asked once', async () => {
    const { source, log } = makeSource(HEALTHY, config({ min_interval: 20 }));
    const ctx = { deadline: Deadline.in(5000), log: silentLogger };
    const [a, b] = await Promise.all([source.read(ctx), source.read(ctx)]);
    expect(log).toHaveLength(7);
    expect(values(a?.registers[0] as RegisterReading)).toEqual(values(b?.registers[0] as RegisterReading));
  });

  it('answers a scrape that comes sooner than the register may be asked again from the last complete read', async () => {
    const { source, log } = makeSource(HEALTHY, config({ min_interval: 300, endpoints: ['paper'] }));
    const ctx = () => ({ deadline: Deadline.in(5000), log: silentLogger });
    await source.read(ctx());
    const reused = await source.read(ctx());
    expect(log).toHaveLength(1);
    expect(values(reused.registers[0] as RegisterReading)).toEqual({ kkt_paper_present: 1 });
    await new Promise((r) => setTimeout(r, 320));
    await source.read(ctx());
    expect(log).toHaveLength(2);
  });

  it('closes the connection after each request to an ad-hoc target, and keeps it to a configured one', async () => {
    const { source, log } = makeSource(HEALTHY, config({ endpoints: ['paper'] }));
    const ctx = { deadline: Deadline.in(5000), log: silentLogger };
    const adHoc = source.lookup('10.1.12.3:8081');
    await source.read(ctx, adHoc.ok ? adHoc.target : undefined);
    await source.read(ctx);
    expect(log.map((r) => r.keepAlive)).toEqual([false, true]);
  });

  it('shares the register gate across config generations (a reload mid-scrape)', async () => {
    const pool = new UkmRegisterPool();
    const log: HttpRequest[] = [];
    const times: number[] = [];
    const old = makeSource(HEALTHY, config({ min_interval: 60, endpoints: ['paper', 'ofd'] }), log, pool).source;
    const reloaded = makeSource(HEALTHY, config({ min_interval: 60, endpoints: ['vision', 'weight'] }), log, pool).source;
    const original = log.push.bind(log);
    log.push = (...items) => {
      times.push(performance.now());
      return original(...items);
    };
    const ctx = { deadline: Deadline.in(5000), log: silentLogger };
    await Promise.all([old.read(ctx), reloaded.read(ctx)]);
    expect(log).toHaveLength(4);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(59);
  });
});

describe('UkmSource: kkt_trading', () => {
  /** Hours on one day only, three days from now on the Moscow clock: closed now, whenever the test runs. */
  const closedNow = tradingHours.parse({ [DateTime.now().setZone('Europe/Moscow').setLocale('en-US').plus({ days: 3 }).toFormat('ccc').toLowerCase()]: '00:00-24:00' });
  const openNow = tradingHours.parse({ 'mon-sun': '00:00-24:00' });

  it('is each register\'s own hours, else the source\'s, down registers included', async () => {
    const cfg = config({
      trading_hours: closedNow,
      registers: [
        { name: 'own', url: BASE, labels: {}, trading_hours: openNow },
        { name: 'inherits', url: BASE, labels: {} },
        { name: 'dead', url: 'http://10.9.9.9:8080', labels: {}, trading_hours: openNow },
      ],
    });
    const { source } = makeSource(HEALTHY, cfg);
    const { registers } = await source.read({ deadline: Deadline.in(5000), log: silentLogger });
    expect(Object.fromEntries(registers.map((r) => [r.kkt, [r.up, tradingOf(r)]]))).toEqual({ own: [true, 1], inherits: [true, 0], dead: [false, 1] });
  });

  it('is 1 when no hours are set', async () => {
    const [r] = (await makeSource(HEALTHY).source.read({ deadline: Deadline.in(5000), log: silentLogger })).registers as [RegisterReading];
    expect(tradingOf(r)).toBe(1);
  });
});

describe('UkmSource.lookup (the /probe target)', () => {
  const { source } = makeSource(HEALTHY, config({ allowed_targets: ['10.0.0.0/8', 'fd00::/8'] }));
  it('accepts a configured register by name or host:port', () => {
    expect(source.lookup('msk-012-pos03')).toMatchObject({ ok: true, target: { kkt: 'msk-012-pos03' } });
    expect(source.lookup('10.1.12.3:8080')).toMatchObject({ ok: true, target: { kkt: 'msk-012-pos03' } });
  });
  it('a configured register is found by its address in any spelling; an unconfigured target is marked ad hoc', () => {
    const { source: other } = makeSource(HEALTHY, config({ registers: [{ name: 'plain', url: 'http://10.1.12.4', labels: {} }] }));
    expect(other.lookup('10.1.12.4:80')).toEqual({ ok: true, target: { kkt: 'plain', ref: expect.anything() } });
    expect(other.lookup('10.1.12.4:8080')).toMatchObject({ ok: true, target: { kkt: '10.1.12.4:8080', adHoc: true } });
  });
  it('accepts an unconfigured ip:port only inside allowed_targets', () => {
    expect(source.lookup('10.9.9.9:8080')).toMatchObject({ ok: true, target: { kkt: '10.9.9.9:8080' } });
    expect(source.lookup('[fd00::5]:8080')).toMatchObject({ ok: true });
    expect(source.lookup('192.168.1.1:8080')).toMatchObject({ ok: false, status: 403 });
    expect(source.lookup('127.0.0.1:22')).toMatchObject({ ok: false, status: 403 });
  });
  it('checks an IPv4-mapped IPv6 target as its IPv4 address, however it is spelt', () => {
    for (const spelling of ['[::ffff:10.0.0.1]:8080', '[::ffff:a00:1]:8080', '[0:0:0:0:0:FFFF:0A00:0001]:8080']) {
      expect(source.lookup(spelling)).toMatchObject({ ok: true, target: { kkt: spelling, ref: { url: 'http://10.0.0.1:8080' } } });
    }
    for (const spelling of ['[::ffff:192.168.1.1]:8080', '[::ffff:c0a8:101]:8080']) {
      expect(source.lookup(spelling)).toMatchObject({ ok: false, status: 403 });
    }
    expect(source.lookup('[::ffff:10.1.12.3]:8080')).toMatchObject({ ok: true, target: { kkt: 'msk-012-pos03' } });
    expect(source.lookup('[FD00:0::5]:8080')).toMatchObject({ ok: true, target: { ref: { url: 'http://[fd00::5]:8080' } } });
  });
  it('refuses host names (403) and anything that is not a name or host:port (400)', () => {
    expect(source.lookup('intranet.example:80')).toMatchObject({ ok: false, status: 403 });
    expect(source.lookup('10.0.0.999:80')).toMatchObject({ ok: false, status: 403 });
    expect(source.lookup('no-such-register')).toMatchObject({ ok: false, status: 400 });
    expect(source.lookup('http://10.0.0.1:80/')).toMatchObject({ ok: false, status: 400 });
    expect(source.lookup('user:pw@10.0.0.1:80')).toMatchObject({ ok: false, status: 400 });
  });
});
