/**
 * One register address, one rate gate, whatever it is called (issue 24, item 3): a register
 * configured as `http://localhost:P` and `/probe?target=127.0.0.1:P`, or a reload that respells the
 * register's URL mid-scrape, still never ask the register twice within a second.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics } from '../support/metrics.js';

let fleet: SimulatedFleet;
let app: RunningExporter;
let hostPort = '';

/** The fleet's config with the register's URL spelt through `localhost` instead of its address. */
const byName = () => fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] }).replaceAll('http://127.0.0.1:', 'http://localhost:');
const byAddress = () => fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] });

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(1) });
  hostPort = fleet.ukm.registers[0]?.hostPort ?? '';
  app = await startExporter(byName());
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

/** `/metrics` scrapes until `until`: the register's kkt_up of each. */
async function scrapeUntil(until: number): Promise<number[]> {
  const ups: number[] = [];
  while (Date.now() < until) {
    const res = await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' });
    ups.push(find(parseMetrics(res.text), 'kkt_up', { source: 'stores' })[0]?.value ?? -1);
  }
  return ups;
}

describe('the rate gate guards the register\'s address, not its name', () => {
  it('a register at http://localhost:P scraped while /probe?target=127.0.0.1:P is hammered: no two requests within a second', async () => {
    const until = Date.now() + 4000;
    const probes: number[] = [];
    const hammer = async () => {
      while (Date.now() < until) probes.push((await get(`${app.url}/probe?source=stores&target=${hostPort}`, { 'X-Prometheus-Scrape-Timeout-Seconds': '3' })).status);
    };
    const [ups] = await Promise.all([scrapeUntil(until), hammer(), hammer(), hammer()]);
    expect(ups.length).toBeGreaterThan(0);
    expect(ups.every((u) => u === 1)).toBe(true);
    expect(probes.length).toBeGreaterThan(3);
    expect(probes.every((s) => s === 200)).toBe(true);
    expect(fleet.ukm.registers[0]?.requests).toBeGreaterThanOrEqual(3);
    expect(fleet.ukm.violations).toEqual([]);
  }, 20_000);

  it('a reload that respells the register URL (localhost <-> 127.0.0.1) mid-scrape: no two requests within a second', async () => {
    const before = fleet.ukm.registers[0]?.requests ?? 0;
    const violationsBefore = fleet.ukm.violations.length;
    const t0 = Date.now();
    const reloads = (async () => {
      for (const [at, text] of [[700, byAddress()], [1900, byName()], [3100, byAddress()]] as const) {
        await new Promise((r) => setTimeout(r, t0 + at - Date.now()));
        await writeFile(app.configFile, text);
        expect((await fetch(`${app.url}/-/reload`, { method: 'POST' })).status).toBe(200);
      }
    })();
    const [ups] = await Promise.all([scrapeUntil(t0 + 4500), scrapeUntil(t0 + 4500), reloads]);
    expect(ups.every((u) => u === 1)).toBe(true);
    expect((fleet.ukm.registers[0]?.requests ?? 0) - before).toBeGreaterThanOrEqual(3);
    expect(fleet.ukm.violations.slice(violationsBefore)).toEqual([]);
  }, 20_000);
});
