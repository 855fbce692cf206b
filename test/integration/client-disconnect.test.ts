/**
 * A scraper that closes its connection stops costing: the reads only it waited for are cut (the
 * request in flight aborted, no further one sent, the register's rate gate released), while a read another
 * scrape shares goes on for that one and gives it its data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import type { SimServer } from '../../src/simulator/http.js';
import type { SimulatedUkmRegister } from '../../src/simulator/ukm.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf } from '../support/metrics.js';

let fleet: SimulatedFleet;
let app: RunningExporter;
let register: SimulatedUkmRegister;

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(1), atol: { registers: generatedAtolFleet(3) } });
  register = fleet.ukm.registers[0] as SimulatedUkmRegister;
  app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd', 'user_role_id'] }));
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

/** Counts the requests a simulated server received and those whose client left before the answer. */
function watchArrivals(server: SimServer): { arrived: number; abandoned: number; stop(): void } {
  const counts = { arrived: 0, abandoned: 0, stop: () => server.server.off('request', onRequest) };
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    counts.arrived++;
    res.on('close', () => {
      if (!res.writableFinished) counts.abandoned++;
    });
  };
  server.server.on('request', onRequest);
  return counts;
}

/** GETs `path` and hangs up after `ms`, as a scraper that gave up. */
async function getAndHangUp(path: string, ms: number, headers: Record<string, string> = {}): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  await fetch(`${app.url}${path}`, { headers, signal: controller.signal }).then((r) => r.text()).catch(() => undefined);
  clearTimeout(timer);
}

const UKM_PATHS = ['/metrics', '/probe?source=stores&target=pos00000'];

describe('a client that goes away', () => {
  it.each(UKM_PATHS)('from %s leaves no read of the slow register running 1 s later', async (path) => {
    register.server.delayMs = 2000;
    await sleep(1100); // the register's rate gate is free again
    const seen = watchArrivals(register.server);
    const shown = app.exporter.status.register('stores', 'pos00000')?.probeId;
    try {
      const started = performance.now();
      await getAndHangUp(path, 500);
      await sleep(1500 - (performance.now() - started));
      // The request in flight at the hang-up was aborted, not left to finish its 2 s.
      expect(seen).toMatchObject({ arrived: 1, abandoned: 1 });
      await sleep(2000);
      // And no later endpoint was asked: without the client, nobody waits for the read.
      expect(seen).toMatchObject({ arrived: 1, abandoned: 1 });
      const probe = app.exporter.history.list().find((r) => r.source === 'stores');
      expect(probe?.durationSeconds).toBeLessThan(1);
      // The landing page keeps the last answer somebody got, not the cut-off one nobody saw.
      expect(app.exporter.status.register('stores', 'pos00000')?.probeId).toBe(shown);
      expect(register.violations).toEqual([]);
    } finally {
      seen.stop();
      register.server.delayMs = 0;
    }
  }, 15_000);

  it('does not shorten a register read another scrape shares: that one gets every endpoint', async () => {
    register.server.delayMs = 300;
    await sleep(1100);
    const seen = watchArrivals(register.server);
    try {
      // The first scrape has the later deadline: the shared read follows it until it hangs up.
      const leaving = getAndHangUp('/metrics', 500, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' });
      await sleep(100);
      const staying = get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '8' });
      const [, res] = await Promise.all([leaving, staying]);
      expect(res.status).toBe(200);
      const series = parseMetrics(res.text);
      expect(valueOf(series, 'kkt_up', { source: 'stores', kkt: 'pos00000' })).toBe(1);
      expect(find(series, 'kkt_probe_endpoint_success', { source: 'stores' }).map((s) => [s.labels.endpoint, s.value])).toEqual([
        ['paper', 1],
        ['ofd', 1],
        ['user_role_id', 1],
      ]);
      // One read for both scrapes, none abandoned.
      expect(seen).toMatchObject({ arrived: 3, abandoned: 0 });
      expect(register.violations).toEqual([]);
    } finally {
      seen.stop();
      register.server.delayMs = 0;
    }
  }, 15_000);

  it('does not shorten a fleet read another scrape shares, and cuts one nobody waits for', async () => {
    const atol = fleet.atol;
    if (!atol) throw new Error('no ATOL simulator');
    await sleep(1100); // the register too is read in these scrapes
    const seen = watchArrivals(atol.server);
    atol.latencyMs = 1500;
    try {
      const leaving = getAndHangUp('/probe?source=atol-cloud', 500, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' });
      await sleep(100);
      const staying = get(`${app.url}/probe?source=atol-cloud`, { 'X-Prometheus-Scrape-Timeout-Seconds': '8' });
      const [, res] = await Promise.all([leaving, staying]);
      expect(res.status).toBe(200);
      const series = parseMetrics(res.text);
      expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
      expect(find(series, 'kkt_up', { source: 'atol-cloud' }).map((s) => s.value)).toEqual([1, 1, 1]);
      expect(seen.abandoned).toBe(0);

      const before = seen.arrived;
      await getAndHangUp('/probe?source=atol-cloud', 500);
      await sleep(1000);
      expect(seen.abandoned).toBe(1);
      expect(seen.arrived).toBe(before + 1);
    } finally {
      seen.stop();
      atol.latencyMs = 0;
    }
  }, 15_000);
});
