import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtolSimulator, generatedAtolFleet, type AtolRecord } from '../../src/simulator/atol.js';
import { get, scrapeSeries as scrape, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, valueOf } from '../support/metrics.js';

describe('register_labels_file on an ATOL source, against the simulated cloud', () => {
  let sim: AtolSimulator;
  let app: RunningExporter;
  let labelsFile: string;
  let serial: (i: number) => string;

  beforeAll(async () => {
    sim = await AtolSimulator.start({ registers: generatedAtolFleet(4) });
    serial = (i) => (sim.registers[i] as AtolRecord).serialNumber;
    const dir = await mkdtemp(join(tmpdir(), 'kkt-register-labels-'));
    labelsFile = join(dir, 'atol-stores.csv');
    await writeFile(labelsFile, `serial,store,city\n${serial(0)},012,msk\n${serial(1)},205,ekb\n`);
    await writeFile(join(dir, 'kz.yml'), '77505: {store: "012"}\n');
    app = await startExporter(
      [
        'sources:',
        `  - { name: atol-cloud, type: atol, url: "${sim.url}", login: ${sim.login}, password: "${sim.password}", register_labels_file: "${labelsFile}" }`,
        `  - { name: kz, type: kassa24, url: "http://127.0.0.1:9", login: "7700", password: p, kkms: [77505, 2062], probe_only: true, register_labels_file: "${join(dir, 'kz.yml')}" }`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('puts the file\'s labels on every series of the registers it names, and none on the others', async () => {
    const s = await scrape(app);
    for (const metric of ['kkt_up', 'kkt_info', 'kkt_fn_usage_percent', 'kkt_trading', 'kkt_probe_endpoint_success']) {
      expect(find(s, metric, { kkt: serial(0) })[0]?.labels, metric).toMatchObject({ source: 'atol-cloud', store: '012', city: 'msk' });
    }
    expect(valueOf(s, 'kkt_up', { kkt: serial(1), store: '205', city: 'ekb' })).toBe(1);
    expect(find(s, 'kkt_up', { kkt: serial(2) })[0]?.labels).toEqual({ source: 'atol-cloud', kkt: serial(2) });
  });

  it('shows a store column on the landing page', async () => {
    await scrape(app);
    const page = (await get(`${app.url}/`)).text;
    const atolSection = page.slice(page.indexOf('id="source-atol-cloud"'));
    expect(atolSection).toContain('<th>register</th><th>store</th><th>state</th>');
    expect(atolSection).toMatch(new RegExp(`<b>${serial(0)}</b><br><small>[^<]*</small></td><td>012</td>`));
  });

  it('gives the static labels to the /sd targets of a source read one by one', async () => {
    const groups = JSON.parse((await get(`${app.url}/sd`)).text) as Array<{ labels: Record<string, string> }>;
    expect(groups.map((g) => g.labels)).toEqual([
      { store: '012', __param_source: 'kz', __param_target: '77505', source: 'kz', kkt: '77505' },
      { __param_source: 'kz', __param_target: '2062', source: 'kz', kkt: '2062' },
    ]);
  });

  it('re-reads the file on reload, and keeps the running labels when the new file is bad', async () => {
    await writeFile(labelsFile, `serial,store\n${serial(0)},013\n`);
    expect((await app.exporter.reload()).ok).toBe(true);
    expect(find(await scrape(app), 'kkt_up', { kkt: serial(0) })[0]?.labels).toEqual({ source: 'atol-cloud', kkt: serial(0), store: '013' });

    await writeFile(labelsFile, `serial,store,source\n${serial(0)},014,x\n`);
    const failed = await app.exporter.reload();
    expect(failed.ok).toBe(false);
    expect(!failed.ok && failed.error).toContain(`${labelsFile}:1:14: label "source" is set by the exporter itself`);
    const s = await scrape(app);
    expect(find(s, 'kkt_up', { kkt: serial(0) })[0]?.labels).toEqual({ source: 'atol-cloud', kkt: serial(0), store: '013' });
    expect(valueOf(s, 'kkt_exporter_config_last_reload_successful')).toBe(0);
  });
});
