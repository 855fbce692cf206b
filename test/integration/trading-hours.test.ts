/**
 * kkt_trading against the simulated fleet: each UKM register's own hours, else its
 * source's; a cloud source's hours on every register it knows, read or not, in the stores' zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { ALWAYS_OPEN, dailyHoursFromNow, generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { scrapeSeries, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, valueOf, type Series } from '../support/metrics.js';

interface TestConfig {
  global: Record<string, unknown>;
  sources: Array<Record<string, unknown> & { name: string; registers?: Array<Record<string, unknown>> }>;
}

let fleet: SimulatedFleet;
let app: RunningExporter;

/** Opens in two hours: closed now, whatever the hour the test runs at. */
const closedNow = (zone: string) => dailyHoursFromNow(zone, 2);
/** Opened an hour ago: open now on `zone`'s clock, and not on a clock hours away from it. */
const openNow = (zone: string) => dailyHoursFromNow(zone, -1);

const trading = (s: Series[], match: Record<string, string>) => find(s, 'kkt_trading', match).map((x) => [x.labels.kkt, x.value]);

beforeAll(async () => {
  const ukm = generatedUkmFleet(3);
  (ukm[2] as { fault?: string }).fault = 'refused';
  fleet = await SimulatedFleet.start({ ukm, atol: { registers: generatedAtolFleet(3) } });
  const config = parse(fleet.exporterConfig({ ukmEndpoints: ['paper'] })) as TestConfig;
  config.global.timezone = 'Asia/Vladivostok';
  const [stores, atol] = config.sources;
  if (!stores?.registers || !atol) throw new Error('the fleet config has no UKM or ATOL source');
  // The source is closed; pos00 has open hours of its own; pos01 and the powered-off pos02 inherit the source's.
  stores.trading_hours = closedNow('Asia/Vladivostok');
  (stores.registers[0] as Record<string, unknown>).trading_hours = ALWAYS_OPEN;
  // ATOL's own times are UTC, but its stores' hours are on global.timezone's clock (Vladivostok here).
  atol.trading_hours = openNow('Asia/Vladivostok');
  config.sources.push({ ...atol, name: 'atol-closed', trading_hours: closedNow('Europe/Moscow'), timezone: 'Europe/Moscow' });
  config.sources.push({ ...atol, name: 'atol-always', trading_hours: undefined });
  app = await startExporter(stringify(config));
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

describe('kkt_trading', () => {
  it('a UKM register has its own hours, else its source\'s; a powered-off register has it beside kkt_up 0', async () => {
    const s = await scrapeSeries(app);
    expect(trading(s, { source: 'stores' })).toEqual([['pos00000', 1], ['pos00001', 0], ['pos00002', 0]]);
    expect(valueOf(s, 'kkt_up', { kkt: 'pos00002' })).toBe(0);
  });

  it('a cloud source gives every register its hours in the stores\' zone (never ATOL\'s UTC), 1 with none set', async () => {
    const s = await scrapeSeries(app);
    const serials = fleet.atol?.registers.map((r) => r.serialNumber) ?? [];
    expect(trading(s, { source: 'atol-cloud' })).toEqual(serials.map((k) => [k, 1]));
    expect(trading(s, { source: 'atol-closed' })).toEqual(serials.map((k) => [k, 0]));
    expect(trading(s, { source: 'atol-always' })).toEqual(serials.map((k) => [k, 1]));
  });

  it('registers known but not read keep their hours while the vendor fails', async () => {
    await fleet.atol?.server.setFault('http500');
    try {
      const s = await scrapeSeries(app);
      expect(find(s, 'kkt_up', { source: 'atol-closed' }).map((x) => x.value)).toEqual([0, 0, 0]);
      expect(trading(s, { source: 'atol-closed' }).map(([, v]) => v)).toEqual([0, 0, 0]);
      expect(trading(s, { source: 'atol-cloud' }).map(([, v]) => v)).toEqual([1, 1, 1]);
    } finally {
      await fleet.atol?.server.setFault(undefined);
    }
  });
});
