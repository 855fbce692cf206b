/**
 * kkt_source_up is the source's own calls (login, register list), not its registers: an ATOL or
 * BusinessKassa source whose login or list fails is down; a UKM source with a register off is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedBkFleet } from '../../src/simulator/businesskassa.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { scrapeSeries, startExporter, type RunningExporter } from '../support/exporter.js';
import { valueOf, type Series } from '../support/metrics.js';

let fleet: SimulatedFleet;
let app: RunningExporter;

const sourceUp = (s: Series[], source: string) => valueOf(s, 'kkt_source_up', { source });

beforeAll(async () => {
  const ukm = generatedUkmFleet(2);
  (ukm[1] as { fault?: string }).fault = 'refused';
  fleet = await SimulatedFleet.start({ ukm, atol: { registers: generatedAtolFleet(2) }, businesskassa: { registers: generatedBkFleet(2) } });
  const config = parse(fleet.exporterConfig({ ukmEndpoints: ['paper'] })) as { sources: Array<Record<string, unknown>> };
  const atol = config.sources.find((s) => s.type === 'atol') as Record<string, unknown>;
  config.sources.push({ ...atol, name: 'atol-refused', password: 'not-the-password' });
  app = await startExporter(stringify(config));
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

describe('kkt_source_up', () => {
  it('0 for an ATOL source whose login is refused; 1 for a UKM source with a register off, and for sources that read well', async () => {
    const s = await scrapeSeries(app);
    expect(sourceUp(s, 'atol-refused')).toBe(0);
    expect(valueOf(s, 'kkt_probe_success', { source: 'atol-refused' })).toBe(0);
    expect(valueOf(s, 'kkt_up', { source: 'stores', kkt: 'pos00001' })).toBe(0);
    expect(valueOf(s, 'kkt_probe_success', { source: 'stores' })).toBe(0);
    expect(sourceUp(s, 'stores')).toBe(1);
    expect(sourceUp(s, 'atol-cloud')).toBe(1);
    expect(sourceUp(s, 'bk')).toBe(1);
  });

  it('0 for ATOL and BusinessKassa sources whose register list answers 500, their known registers down', async () => {
    await fleet.atol?.server.setFault('http500');
    await fleet.businesskassa?.server.setFault('http500');
    try {
      const s = await scrapeSeries(app);
      expect([sourceUp(s, 'atol-cloud'), sourceUp(s, 'bk'), sourceUp(s, 'stores')]).toEqual([0, 0, 1]);
      const serial = fleet.atol?.registers[0]?.serialNumber ?? '?';
      expect(valueOf(s, 'kkt_up', { source: 'atol-cloud', kkt: serial })).toBe(0);
    } finally {
      await fleet.atol?.server.setFault(undefined);
      await fleet.businesskassa?.server.setFault(undefined);
    }
    const s = await scrapeSeries(app);
    expect([sourceUp(s, 'atol-cloud'), sourceUp(s, 'bk')]).toEqual([1, 1]);
  });
});
