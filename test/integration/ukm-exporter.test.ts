import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { SimulatedUkmRegister } from '../../src/simulator/ukm.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf, type Series } from '../support/metrics.js';

const CLOSED_AT = 1_795_000_000;
const ACTIVE_AT = 1_795_001_234;

/** 17 generated tills, each with its own number of unsent receipts, the first out of paper. */
function variedFleet() {
  return generatedUkmFleet(17).map((spec, i) => ({ ...spec, state: { ...spec.state, unsent: i % 7, paper: i !== 0 } }));
}

/** 20 registers: one answering 200 everywhere, one answering 204 wherever it can, one powered off. */
function fleetSpec() {
  return {
    ukm: [
      { name: 'all-200', format: 'text' as const, labels: { store: '012' }, state: { paper: true, receiptOpen: false, lastClosed: CLOSED_AT, unsent: 4, userRoleId: 9, vision: true, weight: 2.5 } },
      { name: 'all-204', format: 'json' as const, state: { paper: false, receiptOpen: true, lastActivity: ACTIVE_AT, unsent: 0, userRoleId: 3, vision: false } },
      { name: 'dead', fault: 'refused' as const },
      ...variedFleet(),
    ],
  };
}

describe('UKM source against the simulator over loopback HTTP', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;
  let scrapes: Array<{ status: number; type: string; text: string; seconds: number }>;
  let series: Series[];

  beforeAll(async () => {
    fleet = await SimulatedFleet.start(fleetSpec());
    app = await startExporter(fleet.exporterConfig());
    const scrape = async () => {
      const t0 = performance.now();
      const res = await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' });
      return { ...res, seconds: (performance.now() - t0) / 1000 };
    };
    // Two Prometheus servers scraping the same 20 registers at once.
    scrapes = await Promise.all([scrape(), scrape()]);
    series = parseMetrics(scrapes[0]?.text ?? '');
  }, 30_000);

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('answers 200 with the registry content type', () => {
    for (const s of scrapes) {
      expect(s.status).toBe(200);
      expect(s.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    }
  });

  it('records not a single rate violation at any register, and shares reads between the two scrapes', () => {
    expect(fleet.ukm.violations).toEqual([]);
    for (const r of fleet.ukm.registers.filter((x) => x.fault === undefined)) expect(r.requests).toBe(7);
  });

  it('reads a full 7-endpoint register in about 6 s, within the 9.5 s budget', () => {
    for (const s of scrapes) {
      expect(s.seconds).toBeGreaterThanOrEqual(6);
      expect(s.seconds).toBeLessThan(9.5);
    }
  });

  it('maps every endpoint\'s 200 answer', () => {
    const r = { source: 'stores', kkt: 'all-200' };
    expect(valueOf(series, 'kkt_up', r)).toBe(1);
    expect(valueOf(series, 'kkt_paper_present', r)).toBe(1);
    expect(valueOf(series, 'kkt_unsent_docs', r)).toBe(4);
    expect(valueOf(series, 'kkt_receipt_open', r)).toBe(0);
    expect(valueOf(series, 'kkt_receipt_last_closed_timestamp_seconds', r)).toBe(CLOSED_AT);
    expect(valueOf(series, 'kkt_user_role_id', r)).toBe(9);
    expect(valueOf(series, 'kkt_vision_connected', r)).toBe(1);
    expect(valueOf(series, 'kkt_scale_weight', r)).toBe(2.5);
    expect(find(series, 'kkt_probe_endpoint_success', r).map((s) => s.value)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(find(series, 'kkt_up', r)[0]?.labels.store).toBe('012');
  });

  it('maps every endpoint\'s 204 answer', () => {
    const r = { source: 'stores', kkt: 'all-204' };
    expect(valueOf(series, 'kkt_paper_present', r)).toBe(0);
    expect(valueOf(series, 'kkt_receipt_open', r)).toBe(1);
    expect(valueOf(series, 'kkt_receipt_last_activity_timestamp_seconds', r)).toBe(ACTIVE_AT);
    expect(valueOf(series, 'kkt_receipt_last_closed_timestamp_seconds', r)).toBeUndefined();
    expect(valueOf(series, 'kkt_vision_connected', r)).toBe(0);
    expect(valueOf(series, 'kkt_scale_weight', r)).toBeUndefined();
    expect(find(series, 'kkt_probe_endpoint_success', r).every((s) => s.value === 1)).toBe(true);
  });

  it('gives kkt_up 0 and no made-up values for a dead register, while the others stay exact', () => {
    const dead = { source: 'stores', kkt: 'dead' };
    expect(valueOf(series, 'kkt_up', dead)).toBe(0);
    expect(find(series, 'kkt_paper_present', dead)).toEqual([]);
    expect(find(series, 'kkt_probe_endpoint_success', dead).map((s) => s.value)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(find(series, 'kkt_up', { source: 'stores' }).filter((s) => s.value === 1)).toHaveLength(19);
    for (const [i, spec] of variedFleet().entries()) {
      expect(valueOf(series, 'kkt_unsent_docs', { kkt: spec.name })).toBe(i % 7);
    }
    expect(valueOf(series, 'kkt_probe_success', { source: 'stores' })).toBe(0);
    expect(app.logs.some((l) => l.level === 'warn' && l.fields.kkt === 'dead' && /connection refused/.test(String(l.fields.failed)))).toBe(true);
  });

  it('counts its vendor requests by endpoint and code', () => {
    expect(valueOf(series, 'kkt_exporter_requests_total', { source: 'stores', endpoint: 'paper', code: '204' })).toBe(2); // all-204 and pos00000
    expect(valueOf(series, 'kkt_exporter_requests_total', { source: 'stores', endpoint: 'paper', code: 'refused' })).toBe(1);
    expect(valueOf(series, 'kkt_exporter_rate_limit_wait_seconds_total', { source: 'stores' })).toBeGreaterThan(6 * 18);
  });

  it('with a 5 s scrape timeout reads the first five endpoints and reports the last two as failed', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // let the register's gate come free after the scrapes above
    const res = await get(`${app.url}/probe?source=stores&target=all-200`, { 'X-Prometheus-Scrape-Timeout-Seconds': '5' });
    const s = parseMetrics(res.text);
    expect(find(s, 'kkt_probe_endpoint_success').map((x) => `${x.labels.endpoint}=${x.value}`)).toEqual([
      'paper=1', 'ofd=1', 'last_receipt_time=1', 'downtime=1', 'user_role_id=1', 'vision=0', 'weight=0',
    ]);
    expect(valueOf(s, 'kkt_probe_duration_seconds', { source: 'stores' })).toBeLessThan(4.5);
    expect(fleet.ukm.violations).toEqual([]);
  });

  it('passes promtool check metrics on its own metric families', () => {
    const own = scrapes[0]?.text
      .split('\n\n')
      .filter((block) => /^# HELP kkt_/.test(block))
      .join('\n\n');
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: `${own}\n`, encoding: 'utf8' });
    if (promtool.error) throw new Error('promtool not found: run scripts/install-test-deps.sh (Debian package prometheus)');
    expect(promtool.stdout + promtool.stderr).toBe('');
    expect(promtool.status).toBe(0);
  });
});

describe('/probe and reload', () => {
  let fleet: SimulatedFleet;
  let outsider: SimulatedUkmRegister;
  let app: RunningExporter;
  const config = (regs: SimulatedUkmRegister[], endpoints = ['paper']) =>
    `sources:\n  - name: stores\n    type: ukm\n    endpoints: [${endpoints.join(', ')}]\n    allowed_targets: [127.0.0.0/8]\n    registers:\n${regs
      .map((r) => `      - { name: ${r.name}, url: "${r.url}" }\n`)
      .join('')}`;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: [{ name: 'a', state: { paper: false } }, { name: 'b' }, { name: 'outsider' }] });
    outsider = fleet.ukm.get('outsider') as SimulatedUkmRegister;
    app = await startExporter(config(fleet.ukm.registers.filter((r) => r !== outsider)));
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('probes one configured register by name, with no self-metrics', async () => {
    const res = await get(`${app.url}/probe?source=stores&target=a`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = parseMetrics(res.text);
    expect(valueOf(s, 'kkt_paper_present', { kkt: 'a' })).toBe(0);
    expect(valueOf(s, 'kkt_probe_success', { source: 'stores' })).toBe(1);
    expect(find(s, 'kkt_up')).toHaveLength(1);
    expect(s.some((x) => x.name.startsWith('kkt_exporter_') || x.name.startsWith('process_'))).toBe(false);
  });

  it('probes an unconfigured register inside allowed_targets', async () => {
    const res = await get(`${app.url}/probe?source=stores&target=${outsider.hostPort}`);
    expect(res.status).toBe(200);
    expect(valueOf(parseMetrics(res.text), 'kkt_up', { kkt: outsider.hostPort })).toBe(1);
  });

  it.each([
    ['no source', '/probe', 400],
    ['unknown source', '/probe?source=atol', 400],
    ['unknown register name', '/probe?source=stores&target=zz', 400],
    ['a URL instead of host:port', '/probe?source=stores&target=http://127.0.0.1:1/', 400],
    ['credentials in the target', '/probe?source=stores&target=user:pw@127.0.0.1:22', 400],
    ['a path in the target', '/probe?source=stores&target=127.0.0.1:22/admin', 400],
    ['a header passed as a parameter', '/probe?source=stores&target=a&authorization=Basic%20eA==', 400],
    ['an extra parameter', '/probe?source=stores&target=a&header=Cookie:x', 400],
    ['a repeated parameter', '/probe?source=stores&source=stores', 400],
    ['an address outside allowed_targets', '/probe?source=stores&target=10.1.2.3:8080', 403],
    ['a host name', '/probe?source=stores&target=example.com:80', 403],
  ])('refuses %s', async (_what, path, status) => {
    const res = await get(`${app.url}${path}`);
    expect(res.status).toBe(status);
    expect(res.text.length).toBeGreaterThan(0);
  });

  it('shows the probe log, metrics and config with debug=true', async () => {
    const res = await get(`${app.url}/probe?source=stores&target=a&debug=true`);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^Logs for the probe:\n/);
    expect(res.text).toContain('probe finished');
    expect(res.text).toContain('Metrics that would have been returned:');
    expect(res.text).toContain('kkt_paper_present{source="stores",kkt="a"} 0');
    expect(res.text).toContain('Source configuration:');
  });

  it('serves the landing page, health and readiness', async () => {
    const page = await get(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toContain('stores');
    expect((await get(`${app.url}/-/healthy`)).status).toBe(200);
    expect((await get(`${app.url}/-/ready`)).status).toBe(200);
    expect((await get(`${app.url}/-/reload`)).status).toBe(405);
  });

  it('reloads a good config and keeps the old one on a bad config', async () => {
    await writeFile(app.configFile, config(fleet.ukm.registers, ['paper', 'ofd']));
    let res = await fetch(`${app.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await get(`${app.url}/probe?source=stores&target=outsider`)).status).toBe(200);
    let self = parseMetrics((await get(`${app.url}/metrics`)).text);
    expect(valueOf(self, 'kkt_exporter_config_last_reload_successful')).toBe(1);
    const okAt = valueOf(self, 'kkt_exporter_config_last_reload_success_timestamp_seconds');

    await writeFile(app.configFile, 'sources:\n  - name: stores\n    type: ukm\n    min_interval: 100ms\n');
    res = await fetch(`${app.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/kkt-exporter\.yml:4:19: sources\.0\.min_interval: must be at least 1s/);
    self = parseMetrics((await get(`${app.url}/metrics`)).text);
    expect(valueOf(self, 'kkt_exporter_config_last_reload_successful')).toBe(0);
    expect(valueOf(self, 'kkt_exporter_config_last_reload_success_timestamp_seconds')).toBe(okAt);
    // The previous config still runs: the register it added is still there.
    expect(valueOf(self, 'kkt_up', { kkt: 'outsider' })).toBe(1);
    expect(fleet.ukm.violations).toEqual([]);
  });
});

describe('one client cannot hurt another', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: [{ name: 'slow', state: { paper: true, unsent: 3 } }] });
    (fleet.ukm.get('slow') as SimulatedUkmRegister).server.delayMs = 300;
    const r = fleet.ukm.get('slow') as SimulatedUkmRegister;
    app = await startExporter(`sources:\n  - name: stores\n    type: ukm\n    endpoints: [paper, ofd]\n    registers:\n      - { name: slow, url: "${r.url}" }\n`);
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it("a client with a 0.6 s timeout every 100 ms does not spoil Prometheus's 10 s scrape of a register answering in 300 ms", async () => {
    let hostile = true;
    const hostileScrapes: Promise<unknown>[] = [];
    const loop = (async () => {
      while (hostile) {
        hostileScrapes.push(get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '0.6' }));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const results: Series[][] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150));
      results.push(parseMetrics((await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' })).text));
    }
    hostile = false;
    await loop;
    await Promise.all(hostileScrapes);
    for (const s of results) {
      expect(valueOf(s, 'kkt_up', { kkt: 'slow' })).toBe(1);
      expect(valueOf(s, 'kkt_paper_present', { kkt: 'slow' })).toBe(1);
      expect(valueOf(s, 'kkt_unsent_docs', { kkt: 'slow' })).toBe(3);
    }
    expect(app.logs.some((l) => /did not answer an earlier endpoint/.test(String(l.fields.failed)))).toBe(false);
    expect(fleet.ukm.violations).toEqual([]);
  }, 30_000);

  it.each(['2147483.648', '4294967.296', '1e15'])('a timeout header of %s s is clamped: 200 and the register read', async (header) => {
    await new Promise((r) => setTimeout(r, 1100));
    const res = await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': header });
    expect(res.status).toBe(200);
    expect(valueOf(parseMetrics(res.text), 'kkt_up', { kkt: 'slow' })).toBe(1);
  }, 10_000);
});

describe('UKM endpoints listed in the document order, under a 3 s scrape timeout', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: [{ name: 'doc-order', state: { paper: false, unsent: 9 } }] });
    const r = fleet.ukm.get('doc-order') as SimulatedUkmRegister;
    app = await startExporter(
      `sources:\n  - name: stores\n    type: ukm\n    endpoints: [last_receipt_time, downtime, user_role_id, ofd, paper, vision, weight]\n    registers:\n      - { name: doc-order, url: "${r.url}" }\n`,
    );
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('still reads paper and ofd first', async () => {
    const s = parseMetrics((await get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '3' })).text);
    expect(valueOf(s, 'kkt_paper_present', { kkt: 'doc-order' })).toBe(0);
    expect(valueOf(s, 'kkt_unsent_docs', { kkt: 'doc-order' })).toBe(9);
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: 'doc-order', endpoint: 'weight' })).toBe(0);
  }, 10_000);
});
