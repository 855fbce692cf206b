/**
 * A source that throws, despite its promise never to, fails only itself: kkt_probe_success 0 and
 * kkt_source_up 0 for it, one error log line naming it and the error, its history entry finished as
 * failed, and every other source answered as usual; the same on /probe (200, as blackbox does).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import type { Source } from '../../src/sources/source.js';
import { get, scrapeSeries, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf } from '../support/metrics.js';

let fleet: SimulatedFleet;
let app: RunningExporter;

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(2), atol: { registers: generatedAtolFleet(3) } });
  app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper'] }));
});

afterEach(() => {
  vi.restoreAllMocks();
  app.logs.length = 0;
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

function atolSource(): Source {
  const source = app.exporter.sources.find((s) => s.name === 'atol-cloud');
  if (!source) throw new Error('no atol-cloud source');
  return source;
}

const BREAKS = {
  synchronously: (source: Source) => vi.spyOn(source, 'read').mockImplementation(() => {
    throw new TypeError('cannot read properties of undefined (reading "serialNumber")');
  }),
  'by rejecting': (source: Source) => vi.spyOn(source, 'read').mockRejectedValue(new TypeError('cannot read properties of undefined (reading "serialNumber")')),
};

describe.each(Object.entries(BREAKS))('a source that throws %s', (_how, breakSource) => {
  it('is down in /metrics, and every other source is answered as usual', async () => {
    breakSource(atolSource());
    const series = await scrapeSeries(app);
    expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    expect(valueOf(series, 'kkt_source_up', { source: 'atol-cloud' })).toBe(0);
    expect(valueOf(series, 'kkt_probe_success', { source: 'stores' })).toBe(1);
    expect(find(series, 'kkt_up', { source: 'stores' }).map((s) => s.value)).toEqual([1, 1]);
    expect(valueOf(series, 'kkt_exporter_build_info')).toBe(1);

    const errors = app.logs.filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ source: 'atol-cloud', err: expect.stringContaining('reading "serialNumber"') });

    const failed = app.exporter.history.list().find((r) => r.source === 'atol-cloud');
    expect(failed).toMatchObject({ via: 'metrics', success: false, error: expect.stringContaining('reading "serialNumber"') });
    expect(app.exporter.status.lastRead('atol-cloud')).toMatchObject({ success: false, error: expect.stringContaining('reading "serialNumber"') });
  });

  it('answers /probe with 200 and the failure in the metrics', async () => {
    breakSource(atolSource());
    const res = await get(`${app.url}/probe?source=atol-cloud`);
    expect(res.status).toBe(200);
    const series = parseMetrics(res.text);
    expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    expect(valueOf(series, 'kkt_source_up', { source: 'atol-cloud' })).toBe(0);

    const debug = await get(`${app.url}/probe?source=atol-cloud&debug=true`);
    expect(debug.status).toBe(200);
    expect(debug.text).toMatch(/level=error source=atol-cloud .*reading \\"serialNumber\\"/);
  });
});

describe('the source once it no longer throws', () => {
  it('is read as usual again', async () => {
    const series = await scrapeSeries(app);
    expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
    expect(find(series, 'kkt_up', { source: 'atol-cloud' }).map((s) => s.value)).toEqual([1, 1, 1]);
  });
});
