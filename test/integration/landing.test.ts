import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAtolFleet } from '../../src/simulator/atol.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import type { RegisterReading } from '../../src/readings/reading.js';
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

describe('landing page: time to block, register notes', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;
  const attentionOrder = (page: string) => [...(/<section id="attention">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '').matchAll(/<tr><td><b>([^<]+)<\/b>/g)].map((m) => m[1]);

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: [{ name: 'dry', state: { paper: false } }], atol: { registers: demoAtolFleet() } });
    app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper'] }), { thresholds: { ok: true, thresholds: await loadThresholds(DEFAULT_THRESHOLDS_FILE) } });
    await get(`${app.url}/metrics`);
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('"Need attention" lists the soonest block first, registers with no block time (a register out of paper) last', async () => {
    const page = (await get(`${app.url}/`)).text;
    const serial = (i: number) => fleet.atol?.registers[i]?.serialNumber;
    // FN expiry in 10 days; oldest unsent 5 days old (25 days left); unsent 1 h old; then FN expiry at 60, 61, 65 days.
    expect(attentionOrder(page)).toEqual([serial(2), serial(3), serial(4), serial(0), serial(1), serial(5), 'dry']);
    expect(page).toMatch(new RegExp(`<b>${serial(2)}</b>.*<td class="nowrap">blocks in (9 d 23 h|10 d): FN expiry</td>`));
    expect(page).toMatch(new RegExp(`<b>${serial(3)}</b>.*blocks in (24 d 23 h|25 d): 30 days unsent to the OFD`));
    expect(page).toMatch(/<b>dry<\/b>.*out of paper<\/a><\/li><\/ul><\/td><td><\/td>/);
    expect(page).toContain('only Prometheus has it');
  });

  it("shows a register's notes on its row, as text", async () => {
    const kkt = fleet.atol?.registers[0]?.serialNumber ?? '';
    const last = app.exporter.status.register('atol-cloud', kkt);
    expect(last).toBeDefined();
    const note = 'X-report not taken: 3 documents kept offline; totals from 14:05 UTC <b>';
    app.exporter.status.record(
      { source: 'atol-cloud', success: true, durationSeconds: 0, registers: [{ ...(last?.reading as RegisterReading), notes: [note] }] },
      { id: 9999, at: new Date(), source: 'atol-cloud', target: kkt, via: 'probe', success: true, durationSeconds: 0, logs: [], logsOmitted: 0 },
    );
    const page = (await get(`${app.url}/`)).text;
    expect(page).toMatch(new RegExp(`<b>${kkt}</b>.*<ul class="notes"><li>X-report not taken: 3 documents kept offline; totals from 14:05 UTC &lt;b&gt;</li></ul>`));
  });
});
