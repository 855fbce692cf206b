import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholds } from '../../src/status/thresholds.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';

/** The landing page's data, without a browser (test/e2e/landing.test.ts looks at it in Chromium). */
describe('landing page fed by /probe, and the probe logs behind it', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({
      ukm: [
        { name: 'dry', state: { paper: false } },
        { name: 'fine', state: { paper: true } },
      ],
    });
    // probe_only: /metrics reads nothing, as in a /probe deployment of a large fleet.
    const config = fleet.exporterConfig({ ukmEndpoints: ['paper'] }).replace('type: ukm', 'type: ukm\n    probe_only: true');
    app = await startExporter(config, { thresholds: { ok: true, thresholds: await loadThresholds(DEFAULT_THRESHOLDS_FILE) } });
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('a register read only through /probe shows its reading and problems on the page, not "not read yet"', async () => {
    let page = (await get(`${app.url}/`)).text;
    expect(page.match(/not read yet<\/td>/g)).toHaveLength(2);
    expect((await get(`${app.url}/probe?source=stores&target=dry`)).status).toBe(200);
    page = (await get(`${app.url}/`)).text;
    expect(page.match(/not read yet<\/td>/g)).toHaveLength(1);
    expect(page).toMatch(/<b>dry<\/b>.*needs attention.*out of paper/);
    expect(page).toContain('href="https://github.com/kkt-exporter/kkt-exporter/blob/main/docs/alerts.md#kktpaperout"');
  });

  it('/logs?id= gives a kept probe\'s logs and says when one is gone or the id is not a number', async () => {
    const page = (await get(`${app.url}/`)).text;
    const id = /href="logs\?id=(\d+)"/.exec(page)?.[1];
    expect(id).toBeDefined();
    const log = await get(`${app.url}/logs?id=${id}`);
    expect(log.status).toBe(200);
    expect(log.text).toMatch(/^Probe \d+ of register dry of source stores \(\/probe\) at \S+: succeeded in [\d.]+ s\n\nLogs for the probe:\n.*msg="probe finished"/);
    expect((await get(`${app.url}/logs?id=999999`)).status).toBe(404);
    expect((await get(`${app.url}/logs?id=abc`)).status).toBe(400);
    expect((await get(`${app.url}/logs`)).status).toBe(400);
  });

  it('without thresholds the page still flags registers not read, and says why it flags nothing else', async () => {
    const bare = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper'] }));
    try {
      await fleet.ukm.get('fine')?.setFault('refused');
      await get(`${bare.url}/metrics`);
      const page = (await get(`${bare.url}/`)).text;
      expect(page).toContain('the alert thresholds could not be read (no thresholds file given)');
      expect(page).toMatch(/<b>fine<\/b>.*not read: connection refused/);
      expect(page).not.toContain('out of paper');
    } finally {
      await fleet.ukm.get('fine')?.setFault(undefined);
      await bare.stop();
    }
  });
});
