import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { listen } from '../../src/server/listen.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import type { SimulatedUkmRegister } from '../../src/simulator/ukm.js';
import { closeServer, get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics } from '../support/metrics.js';

describe('probe_only sources and GET /sd', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: [{ name: 'a' }, { name: 'b' }], atol: { registers: generatedAtolFleet(3) } });
    const reg = (name: string) => fleet.ukm.get(name) as SimulatedUkmRegister;
    const atol = fleet.atol as NonNullable<SimulatedFleet['atol']>;
    app = await startExporter(
      [
        'sources:',
        '  - name: stores',
        '    type: ukm',
        '    probe_only: true',
        '    endpoints: [paper]',
        '    registers:',
        `      - { name: a, url: "${reg('a').url}", labels: { store: "012", city: msk } }`,
        `      - { name: b, url: "${reg('b').url}" }`,
        `  - { name: atol-cloud, type: atol, url: "${atol.url}", login: ${atol.login}, password: ${atol.password} }`,
        `  - { name: atol-probed, type: atol, probe_only: true, url: "${atol.url}", login: ${atol.login}, password: ${atol.password} }`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('/metrics skips a probe_only source but keeps the self-metrics and the other sources', async () => {
    const before = fleet.ukm.requests;
    const s = parseMetrics((await get(`${app.url}/metrics`)).text);
    expect(find(s, 'kkt_up', { source: 'stores' })).toEqual([]);
    expect(find(s, 'kkt_probe_success', { source: 'stores' })).toEqual([]);
    expect(find(s, 'kkt_up', { source: 'atol-cloud' })).toHaveLength(3);
    expect(find(s, 'kkt_exporter_build_info')).toHaveLength(1);
    expect(fleet.ukm.requests).toBe(before);
  });

  it('/probe still reads a probe_only source', async () => {
    const s = parseMetrics((await get(`${app.url}/probe?source=stores&target=a`)).text);
    expect(find(s, 'kkt_up', { kkt: 'a' })[0]?.value).toBe(1);
  });

  it('/sd lists one group per register with its static labels and one per fleet source, at the request\'s Host', async () => {
    const groups = JSON.parse((await get(`${app.url}/sd`)).text) as Array<{ targets: string[]; labels: Record<string, string> }>;
    const host = new URL(app.url).host;
    expect(groups).toEqual([
      { targets: [host], labels: { store: '012', city: 'msk', __param_source: 'stores', __param_target: 'a', source: 'stores', kkt: 'a' } },
      { targets: [host], labels: { __param_source: 'stores', __param_target: 'b', source: 'stores', kkt: 'b' } },
      { targets: [host], labels: { __param_source: 'atol-probed', source: 'atol-probed' } },
    ]);
  });

  it('/sd leaves out a source that /metrics reads: a Prometheus scraping both would hold its registers twice', async () => {
    const groups = JSON.parse((await get(`${app.url}/sd`)).text) as Array<{ labels: Record<string, string> }>;
    expect(groups.filter((g) => g.labels.source === 'atol-cloud')).toEqual([]);
    const s = parseMetrics((await get(`${app.url}/metrics`)).text);
    expect(find(s, 'kkt_up', { source: 'atol-probed' })).toEqual([]);
  });

  it('/sd names --web.external-url instead, with its scheme and path prefix', async () => {
    const { server, url } = await listen(createApp(app.exporter, { externalUrl: new URL('https://kkt-1.example:8443/kkt/') }), { host: '127.0.0.1', port: 0 });
    try {
      const groups = JSON.parse((await get(`${url}/sd`)).text) as Array<{ targets: string[]; labels: Record<string, string> }>;
      for (const g of groups) {
        expect(g.targets).toEqual(['kkt-1.example:8443']);
        expect(g.labels).toMatchObject({ __scheme__: 'https', __metrics_path__: '/kkt/probe' });
      }
    } finally {
      await closeServer(server);
    }
  });
});
