/**
 * The simulator as a team rehearses on it: every vendor's registers set one by one through the
 * control API (and seen so by the exporter), strict control bodies, live cloud timestamps, a healthy
 * fleet from the command line, and UKM tills that keep their own zone's local time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { simulatorArgs } from '../../src/simulator/args.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { problemsOf } from '../../src/status/problems.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholds } from '../../src/status/thresholds.js';
import { get, scrapeSeries, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, valueOf, type Series } from '../support/metrics.js';

const SIMULATOR = join(import.meta.dirname, '../../dist/simulator/cli.js');
const nowSeconds = () => Date.now() / 1000;

async function patch(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'PATCH', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A fleet of every vendor from the command line's counts, its control API, and an exporter on it. */
async function startRehearsal(argv: string[], endpoints = ['paper', 'ofd']): Promise<{ fleet: SimulatedFleet; control: string; app: RunningExporter }> {
  const fleet = await SimulatedFleet.start(simulatorArgs(argv).spec);
  const control = await fleet.startControl();
  const app = await startExporter(fleet.exporterConfig({ ukmEndpoints: endpoints }), { thresholds: { ok: true, thresholds: await loadThresholds(DEFAULT_THRESHOLDS_FILE) } });
  return { fleet, control, app };
}

describe('every vendor\'s registers are settable one by one through the control API', () => {
  let fleet: SimulatedFleet;
  let control: string;
  let app: RunningExporter;
  let series: Series[];
  const ATOL = '00107700000001';
  const BK = '2000004582';

  beforeAll(async () => {
    ({ fleet, control, app } = await startRehearsal(['--ukm=2', '--atol=3', '--bk=3', '--kassa24=3']));
    expect((await patch(`${control}/ukm/pos00001`, { state: { paper: false } })).status).toBe(200);
    const atol = await patch(`${control}/atol/registers/${ATOL}`, { fiscalStoragePercentageUse: 97.5, fiscalStorageSerialNumber: '9999078900000001' });
    expect(atol).toMatchObject({ status: 200, body: { serialNumber: ATOL, fiscalStoragePercentageUse: 97.5 } });
    expect((await patch(`${control}/businesskassa/registers/${BK}`, { fs: { phase: 7, sn: '7381440800000001' } })).body).toMatchObject({ sn: BK, fs: { phase: 7, sn: '7381440800000001', flags: 0 } });
    const k24 = await patch(`${control}/kassa24/registers/70001`, { shift: { open: false } });
    expect(k24.body).toMatchObject({ register: 70001, shift: { open: false, status: 'Закрыта' } });
    expect((await patch(`${control}/kassa24/registers/70002`, { shift: { index: 60, opened_at: Math.floor(nowSeconds()) - 23.5 * 3600 } })).body).toMatchObject({ shift: { index: 60, open: true } });
    series = await scrapeSeries(app);
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('shows each change in the exporter, on that register only', () => {
    expect(find(series, 'kkt_paper_present', { source: 'stores' }).map((s) => [s.labels.kkt, s.value])).toEqual([['pos00000', 1], ['pos00001', 0]]);
    expect(valueOf(series, 'kkt_fn_usage_percent', { kkt: ATOL })).toBe(97.5);
    expect(find(series, 'kkt_info', { kkt: ATOL })[0]?.labels.fn_serial).toBe('9999078900000001');
    expect(valueOf(series, 'kkt_fn_usage_percent', { kkt: '00107700000000' })).toBe(10);
    expect(find(series, 'kkt_fn_phase', { source: 'bk' }).map((s) => [s.labels.kkt, s.value])).toEqual([['2000004581', 3], [BK, 7], ['2000004583', 3]]);
    expect(find(series, 'kkt_info', { kkt: BK })[0]?.labels.fn_serial).toBe('7381440800000001');
    expect(find(series, 'kkt_shift_open', { source: 'kz' }).map((s) => [s.labels.kkt, s.value])).toEqual([['70000', 1], ['70001', 0], ['70002', 1]]);
    expect(valueOf(series, 'kkt_shift_number', { kkt: '70002' })).toBe(60);
  });

  it('lists each cloud\'s registers as served, and answers 404 for one it does not have', async () => {
    const atol = (await (await fetch(`${control}/atol/registers`)).json()) as Array<{ serialNumber: string }>;
    expect(atol.map((r) => r.serialNumber)).toEqual(['00107700000000', ATOL, '00107700000002']);
    expect(((await (await fetch(`${control}/kassa24/registers`)).json()) as unknown[]).length).toBe(3);
    expect((await patch(`${control}/atol/registers/nope`, { unsentDocs: 1 })).status).toBe(404);
    expect((await patch(`${control}/businesskassa/registers/1`, {})).status).toBe(404);
    expect((await patch(`${control}/kassa24/registers/1`, {})).status).toBe(404);
  });

  it.each([
    ['/ukm/pos00000', { state: { papr: false } }, 'state: unknown key "papr"', 'paper'],
    ['/ukm/pos00000', { bogus: 1 }, 'unknown key "bogus"', 'state'],
    ['/atol', { bogus: 1 }, 'unknown key "bogus"', 'paging'],
    [`/atol/registers/${ATOL}`, { fiscalStorageUse: 1 }, 'unknown key "fiscalStorageUse"', 'fiscalStoragePercentageUse'],
    ['/businesskassa', { clock_offset: 3 }, 'unknown key "clock_offset"', 'clock_offset_hours'],
    [`/businesskassa/registers/${BK}`, { fs: { phse: 7 } }, 'fs: unknown key "phse"', 'phase'],
    ['/kassa24', { register: 70000, blokced: 'kkm' }, 'unknown key "blokced"', 'blocked'],
    ['/kassa24/registers/70000', { shift: { opend: true } }, 'shift: unknown key "opend"', 'open'],
    ['/faults', { vendor: 'atol', fualt: 'http500' }, 'unknown key "fualt"', 'fault'],
  ])('PATCH %s %j: 400 with the keys it knows', async (path, body, error, known) => {
    const res = await patch(`${control}${path}`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain(error);
    expect(res.body.known_keys).toContain(known);
  });

  it.each([
    ['/ukm/pos00000', { state: { paper: 'no' } }, /state\.paper: .*expected boolean/],
    ['/ukm/pos00000', { delay_ms: -1 }, /delay_ms/],
    ['/ukm/pos00000', { fault: 'unplugged' }, /fault: .*refused/],
    ['/ukm/pos00000', { timezone: 'Mars/Olympus' }, /timezone/],
    [`/atol/registers/${ATOL}`, { fiscalStoragePercentageUse: '97' }, /fiscalStoragePercentageUse: .*expected number/],
    [`/atol/registers/${ATOL}`, { unsentDocs: 1.5 }, /unsentDocs: .*int/],
    [`/businesskassa/registers/${BK}`, { fs: { phase: 'post' } }, /fs\.phase: .*expected number/],
    ['/kassa24/registers/70000', { shift_fault: 200 }, /shift_fault/],
    ['/kassa24', { blocked: 'kkm' }, /need "register"/],
    ['/atol', { oversized: { registers: 100_000, length: 1_000_000 } }, /at most 100000000/],
    ['/atol', '{"paging": ', /not JSON/],
  ])('PATCH %s %j: 400 for a bad value', async (path, body, error) => {
    const res = await patch(`${control}${path}`, body);
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(error);
  });
});

describe('cloud timestamps advance as a live service\'s do, unless set', () => {
  let fleet: SimulatedFleet;
  let control: string;
  let app: RunningExporter;

  beforeAll(async () => {
    ({ fleet, control, app } = await startRehearsal(['--atol=2', '--bk=2']));
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('says "now" in every answer: a later scrape reads a later ATOL timestamp, and BusinessKassa\'s is this minute', async () => {
    const first = await scrapeSeries(app);
    await new Promise((r) => setTimeout(r, 1100));
    const second = await scrapeSeries(app);
    const atol = (s: Series[]) => valueOf(s, 'kkt_status_timestamp_seconds', { kkt: '00107700000000' }) ?? 0;
    expect(nowSeconds() - atol(second)).toBeLessThan(2);
    expect(atol(second)).toBeGreaterThan(atol(first));
    for (const s of find(second, 'kkt_status_timestamp_seconds', { source: 'bk' })) expect(nowSeconds() - s.value).toBeLessThan(60);
  });

  it('serves a timestamp set through the control API as it is, and "now" again once it is cleared', async () => {
    await patch(`${control}/atol/registers/00107700000001`, { timestamp: '2026-01-10T08:00:00+00:00' });
    await patch(`${control}/businesskassa/registers/2000004582`, { timestamp: '10.01.2026 11:00' });
    const frozen = await scrapeSeries(app);
    expect(valueOf(frozen, 'kkt_status_timestamp_seconds', { kkt: '00107700000001' })).toBe(Date.parse('2026-01-10T08:00:00Z') / 1000);
    expect(valueOf(frozen, 'kkt_status_timestamp_seconds', { kkt: '2000004582' })).toBe(Date.parse('2026-01-10T08:00:00Z') / 1000); // Moscow time
    await patch(`${control}/atol/registers/00107700000001`, { timestamp: null });
    const live = await scrapeSeries(app);
    expect(nowSeconds() - (valueOf(live, 'kkt_status_timestamp_seconds', { kkt: '00107700000001' }) ?? 0)).toBeLessThan(2);
  });
});

describe('a fleet from the command line without --demo is healthy', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    ({ fleet, app } = await startRehearsal(['--ukm=8', '--atol=20', '--bk=5', '--kassa24=4']));
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('gives no register a problem, and every cloud timestamp is of this minute', async () => {
    const thresholds = await loadThresholds(DEFAULT_THRESHOLDS_FILE);
    const series = await scrapeSeries(app);
    const registers = find(series, 'kkt_up').map((s) => [s.labels.source ?? '', s.labels.kkt ?? ''] as const);
    expect(registers).toHaveLength(8 + 20 + 5 + 4);
    const problems = (at: number) =>
      registers.flatMap(([source, kkt]) => {
        const reading = app.exporter.status.register(source, kkt)?.reading;
        return reading ? problemsOf(reading, at, thresholds).map((p) => `${source}/${kkt}: ${p.text}`) : [`${source}/${kkt}: not read`];
      });
    expect(problems(nowSeconds())).toEqual([]);
    // Timestamps of the moment they are read: a staging Prometheus pages nothing stale hours later.
    expect(find(series, 'kkt_status_timestamp_seconds').every((s) => nowSeconds() - s.value < 60)).toBe(true);
  });
});

describe('text-format UKM tills report local time in their own zone', () => {
  let fleet: SimulatedFleet;
  let control: string;
  let app: RunningExporter;
  const CLOSED_AT = 1_795_000_000;

  beforeAll(async () => {
    ({ fleet, control, app } = await startRehearsal(['--ukm=3', '--timezones=Europe/Moscow,Asia/Vladivostok,Asia/Almaty'], ['downtime']));
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('answers on its own clock, set by --timezones or the control API, and the exporter configured with that zone reads the right instant', async () => {
    for (const name of ['pos00000', 'pos00001', 'pos00002']) {
      expect((await patch(`${control}/ukm/${name}`, { format: 'text', state: { lastClosed: CLOSED_AT } })).status).toBe(200);
    }
    const downtime = async (name: string) => (await get(`${fleet.ukm.get(name)?.url}/api/v1/status/downtime`)).text;
    expect(await downtime('pos00000')).toBe('2026-11-18 14:06:40');
    expect(await downtime('pos00001')).toBe('2026-11-18 21:06:40');
    expect(await downtime('pos00002')).toBe('2026-11-18 16:06:40');
    const config = parse(fleet.exporterConfig()) as { sources: Array<{ registers: Array<{ name: string; timezone?: string }> }> };
    expect(config.sources[0]?.registers.map((r) => r.timezone)).toEqual([undefined, 'Asia/Vladivostok', 'Asia/Almaty']);
    const series = await scrapeSeries(app);
    expect(find(series, 'kkt_receipt_last_closed_timestamp_seconds').map((s) => s.value)).toEqual([CLOSED_AT, CLOSED_AT, CLOSED_AT]);

    const moved = await patch(`${control}/ukm/pos00000`, { timezone: 'Asia/Novosibirsk' });
    expect(moved.body).toMatchObject({ timezone: 'Asia/Novosibirsk' });
    expect(await downtime('pos00000')).toBe('2026-11-18 18:06:40');
  });
});

describe('kkt-simulator, the command', () => {
  /** Runs dist/simulator/cli.js until its first line (or its exit); the line, the exit code, stderr. */
  function run(args: string[]): Promise<{ line?: string; code?: number | null; stderr: string; stop: () => void }> {
    const child = spawn(process.execPath, [SIMULATOR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const stop = () => child.kill('SIGKILL');
    return new Promise((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('\n')) resolve({ line: stdout.split('\n')[0], stderr, stop });
      });
      child.once('exit', (code) => resolve({ code, stderr, stop }));
      setTimeout(() => resolve({ stderr: `${stderr}(still running after 10 s)`, stop }), 10_000);
    });
  }

  it.each([['--ukm=-1'], ['--atol=2.5'], ['--bk=1000000000']])('refuses %s with a clear line and exit code 1', async (arg) => {
    const r = await run([arg]);
    r.stop();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^kkt-simulator: ${arg.replace('.', '\\.')}: expected a whole number from 0 to \\d+\\n`));
  });

  it('combines --demo with --bk and --kassa24, and writes a config that monitors them all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-simulator-test-'));
    const r = await run(['--demo', '--bk=3', '--kassa24=2', `--config-out=${join(dir, 'kkt.yml')}`]);
    try {
      const ready = JSON.parse(r.line ?? '{}') as { control?: string; ukm_registers?: number };
      expect(ready.ukm_registers).toBe(15);
      const stats = (await (await fetch(`${ready.control}/stats`)).json()) as Record<string, { registers: number }>;
      expect([stats.atol?.registers, stats.businesskassa?.registers, stats.kassa24?.registers]).toEqual([6, 8, 6]);
      const config = parse(await readFile(join(dir, 'kkt.yml'), 'utf8')) as { sources: Array<{ name: string; trading_hours?: unknown }> };
      expect(config.sources.map((s) => s.name)).toEqual(['stores', 'atol-cloud', 'bk', 'kz']);
      expect(config.sources.every((s) => s.trading_hours)).toBe(true);
    } finally {
      r.stop();
    }
  });
});
