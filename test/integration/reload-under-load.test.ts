/**
 * Reloads, good and bad, while two scrapers keep reading: no scrape fails, no register sees two
 * requests within a second, and the process keeps exactly one rate gate per register.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import type { UkmRegisterPool } from '../../src/sources/ukm/reads.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics } from '../support/metrics.js';

let fleet: SimulatedFleet;
let app: RunningExporter;

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(10), atol: { registers: generatedAtolFleet(50) } });
  app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] }));
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

describe('reload under load', () => {
  it('keeps every scrape whole through good and bad reloads', async () => {
    const good = fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] });
    const changed = good.replace('min_interval: 1s', 'min_interval: 2s');
    const results: Array<{ status: number; ukmUp: number; atolUp: number }> = [];
    const t0 = Date.now();
    const until = t0 + 7000;
    const scraper = async () => {
      while (Date.now() < until) {
        const res = await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' });
        const s = parseMetrics(res.text);
        results.push({
          status: res.status,
          ukmUp: find(s, 'kkt_up', { source: 'stores' }).filter((x) => x.value === 1).length,
          atolUp: find(s, 'kkt_up', { source: 'atol-cloud' }).filter((x) => x.value === 1).length,
        });
      }
    };
    const reloads = (async () => {
      const statuses: number[] = [];
      for (const [at, text] of [[1000, changed], [2500, 'sources: [ {name: broken'], [4000, good], [5500, 'sources: [{name: x, type: ukm, min_interval: 10ms}]']] as const) {
        await new Promise((r) => setTimeout(r, t0 + at - Date.now()));
        await writeFile(app.configFile, text);
        statuses.push((await fetch(`${app.url}/-/reload`, { method: 'POST' })).status);
      }
      return statuses;
    })();
    const [statuses] = await Promise.all([reloads, scraper(), scraper()]);
    expect(statuses).toEqual([200, 500, 200, 500]);
    expect(results.length).toBeGreaterThan(4);
    expect(results.filter((r) => r.status !== 200 || r.ukmUp !== 10 || r.atolUp !== 50)).toEqual([]);
    expect(fleet.ukm.violations).toEqual([]);
    // One rate gate per register across both generations: the UKM vendor's state outlived the reloads.
    expect((app.exporter.vendorStates.of('ukm') as UkmRegisterPool).gates.size).toBe(10);
    expect(fleet.atol?.authCalls).toBe(1);
  }, 20_000);
});
