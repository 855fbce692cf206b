import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ALL_METRICS } from '../src/readings/catalog.js';
import { withMetricsTable } from '../src/metrics/docs.js';

const root = new URL('..', import.meta.url);

describe('documentation stays true', () => {
  it('the README metric table is the one generated from the definitions (run `npm run docs`)', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    expect(withMetricsTable(readme)).toBe(readme);
    for (const name of Object.keys(ALL_METRICS)) expect(readme).toContain(`\`${name}\``);
  });

  it('examples/kkt-exporter.yml is a valid config as shipped, with no environment', async () => {
    const { config } = await loadConfig(new URL('examples/kkt-exporter.yml', root).pathname, {});
    const stores = config.sources[0];
    expect(stores?.type === 'ukm' && stores.registers.map((r) => r.name)).toEqual(['msk-012-pos03', 'msk-012-pos04', 'ekb-305-pos01', 'spb-101-pos01', 'spb-101-pos02']);
    expect(config.sources.map((s) => s.type)).toEqual(['ukm', 'atol', 'businesskassa', 'kassa24']);
  });
});
