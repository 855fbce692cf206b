/**
 * The fault matrix: every vendor endpoint answering with every fault a vendor can throw. For each
 * cell: the exporter stays up and answers within the deadline; the faulty register or source reports
 * failure with a log line saying what went wrong; every other register's values are exactly as
 * before; no NaN or Infinity; memory does not jump with the 50 MiB body. Then: only the documented
 * read calls (and logins) were ever sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATOL_PAGING_FAULTS, generatedAtolFleet, type AtolSimulator } from '../../src/simulator/atol.js';
import { generatedBkFleet } from '../../src/simulator/businesskassa.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { SIM_FAULTS, type SimFault, type SimServer } from '../../src/simulator/http.js';
import { generatedK24Fleet } from '../../src/simulator/kassa24.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf, type Series } from '../support/metrics.js';

type Vendor = 'ukm' | 'atol' | 'businesskassa' | 'kassa24';
const SOURCE: Record<Vendor, string> = { ukm: 'stores', atol: 'atol-cloud', businesskassa: 'bk', kassa24: 'kz' };
/** A date series each vendor reports, which "invalid_dates" must make absent rather than fail. */
const DATE_SERIES: Record<Vendor, string> = {
  ukm: 'kkt_receipt_last_closed_timestamp_seconds',
  atol: 'kkt_status_timestamp_seconds',
  businesskassa: 'kkt_status_timestamp_seconds',
  kassa24: 'kkt_shift_opened_timestamp_seconds',
};
const TIMEOUT_SECONDS = 4;
const VOLATILE = new Set(['kkt_probe_duration_seconds']);

let fleet: SimulatedFleet;
let app: RunningExporter;
let baseline: Series[];
const authBroken = new Set<Vendor>();

const key = (s: Series) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

function serverOf(vendor: Vendor): SimServer {
  const server = fleet.serverOf(vendor, vendor === 'ukm' ? 'u-faulty' : undefined);
  if (!server) throw new Error(`no server for ${vendor}`);
  return server;
}

async function scrape(): Promise<{ series: Series[]; text: string; seconds: number }> {
  const t0 = performance.now();
  const res = await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': String(TIMEOUT_SECONDS) });
  expect(res.status).toBe(200);
  return { series: parseMetrics(res.text), text: res.text, seconds: (performance.now() - t0) / 1000 };
}

/** Register series of everything but the faulty vendor (or register), as they must stay. */
function others(series: Series[], vendor: Vendor): Map<string, number> {
  const skip = new Set([...authBroken].map((v) => SOURCE[v]));
  return new Map(
    series
      .filter((s) => s.name.startsWith('kkt_') && !s.name.startsWith('kkt_exporter_') && !VOLATILE.has(s.name) && s.labels.source)
      .filter((s) => !skip.has(s.labels.source as string))
      .filter((s) => (vendor === 'ukm' ? s.labels.kkt !== 'u-faulty' && !(s.name === 'kkt_probe_success' && s.labels.source === 'stores') : s.labels.source !== SOURCE[vendor]))
      .map((s) => [key(s), s.value]),
  );
}

beforeAll(async () => {
  fleet = await SimulatedFleet.start({
    ukm: [{ name: 'u-faulty', format: 'text' }, { name: 'u-ok', format: 'json', state: { unsent: 4 } }],
    // Set timestamps, not live ones: every other register's values stay exactly as in the baseline.
    atol: { registers: generatedAtolFleet(3).map((r) => ({ ...r, timestamp: '2026-11-20T10:00:00+00:00' })) },
    businesskassa: { registers: generatedBkFleet(3).map((r) => ({ ...r, timestamp: '20.11.2026 13:00' })) },
    kassa24: { registers: generatedK24Fleet(2) },
  });
  app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd', 'downtime'] }));
  baseline = (await scrape()).series;
  expect(find(baseline, 'kkt_up').every((s) => s.value === 1)).toBe(true);
  expect(find(baseline, 'kkt_up')).toHaveLength(2 + 3 + 3 + 2);
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

// Auth faults last: a refused login backs off for a minute, and that vendor then stays failed.
const ORDER: SimFault[] = [...SIM_FAULTS.filter((f) => f !== 'auth401'), 'auth401'];
const CELLS = ORDER.flatMap((fault) => (['ukm', 'atol', 'businesskassa', 'kassa24'] as Vendor[]).map((vendor) => [vendor, fault] as const));

// Before the auth faults, which leave ATOL failed for the rest of the file.
describe('fault matrix: ATOL paging', () => {
  it.each(ATOL_PAGING_FAULTS)('atol paging %s', async (paging) => {
    const logsBefore = app.logs.length;
    const atol = fleet.atol as AtolSimulator;
    atol.paging = paging;
    let result;
    try {
      result = await scrape();
    } finally {
      atol.paging = undefined;
    }
    const { series, seconds } = result;
    expect(seconds).toBeLessThan(TIMEOUT_SECONDS + 0.5);
    expect(others(series, 'atol')).toEqual(others(baseline, 'atol'));
    if (paging === 'capped_limit' || paging === 'lying_limit') {
      // Three registers fit one capped page; a page is stepped by what it carried, whatever limit it states: nothing is lost.
      expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
      return;
    }
    expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    const lines = app.logs.slice(logsBefore).filter((l) => l.level === 'error' && l.fields.source === 'atol-cloud');
    expect(lines.some((l) => String(l.fields.err ?? '').length > 0)).toBe(true);
  }, 20_000);
});

describe('fault matrix', () => {
  it.each(CELLS)('%s answering with %s', async (vendor, fault) => {
    const logsBefore = app.logs.length;
    const rssBefore = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 1100)); // past min_interval: a UKM read is not reused
    await serverOf(vendor).setFault(fault);
    let result;
    try {
      result = await scrape();
    } finally {
      await serverOf(vendor).setFault(undefined);
    }
    const { series, text, seconds } = result;
    const source = SOURCE[vendor];

    expect(seconds).toBeLessThan(TIMEOUT_SECONDS + 0.5);
    const register = series.filter((x) => x.name.startsWith('kkt_') && !x.name.startsWith('kkt_exporter_'));
    expect(register.filter((x) => !Number.isFinite(x.value))).toEqual([]);
    expect(text).not.toMatch(/ NaN$/m);
    expect(others(series, vendor)).toEqual(others(baseline, vendor));

    if (fault === 'invalid_dates') {
      // Dates the vendor cannot give are absent, never a made-up value, and not a failure.
      const faulty: Record<string, string> = vendor === 'ukm' ? { kkt: 'u-faulty' } : { source };
      expect(find(baseline, DATE_SERIES[vendor], faulty).length).toBeGreaterThan(0);
      expect(find(series, DATE_SERIES[vendor], faulty)).toEqual([]);
      expect(find(series, 'kkt_up', faulty).every((s) => s.value === 1)).toBe(true);
      return;
    }
    if (vendor === 'ukm') {
      expect(find(series, 'kkt_probe_endpoint_success', { kkt: 'u-faulty' }).some((s) => s.value === 0)).toBe(true);
    } else {
      expect(valueOf(series, 'kkt_probe_success', { source })).toBe(0);
    }
    const lines = app.logs.slice(logsBefore).filter((l) => (l.level === 'warn' || l.level === 'error') && l.fields.source === source);
    expect(lines.length, `a log line for ${source}`).toBeGreaterThan(0);
    expect(lines.some((l) => String(l.fields.err ?? l.fields.failed ?? '').length > 0)).toBe(true);
    if (fault === 'huge_body') expect(process.memoryUsage().rss - rssBefore).toBeLessThan(40 * 1024 * 1024);
    if (fault === 'auth401' && vendor !== 'ukm') authBroken.add(vendor);
  }, 20_000);

  it('sent only the documented read calls (and logins) to every vendor', () => {
    const atol = new Set(fleet.atol?.requests.map((r) => `${r.method} ${r.path.replace(/\?.*/, '').replace(/\d{14}/, ':serial')}`));
    expect([...atol].every((c) => ['POST /api/auth/v1/gettoken', 'GET /api/kkt/v1/cash-registers'].includes(c))).toBe(true);
    expect(fleet.businesskassa?.requests.every((r) => r.method === 'GET')).toBe(true);
    const k24 = new Set(fleet.kassa24?.requests.map((r) => `${r.method} ${r.path.replace(/\d+/g, ':id')}`));
    expect([...k24].every((c) => ['POST /auth', 'GET /kkms', 'GET /kkms/:id', 'GET /shifts/:id', 'POST /shifts/:id/x'].includes(c))).toBe(true);
    expect(fleet.ukm.violations).toEqual([]);
    expect(fleet.ukm.registers.map((r) => r.nonGetRequests)).toEqual([0, 0]);
    expect(fleet.ukm.registers.every((r) => [...r.byEndpoint.keys()].every((e) => ['paper', 'ofd', 'downtime'].includes(e)))).toBe(true);
  });
});
