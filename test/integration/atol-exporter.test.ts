import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtolSimulator, generatedAtolFleet, type AtolRecord } from '../../src/simulator/atol.js';
import { get, scrapeSeries as scrape, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf, type Series } from '../support/metrics.js';

const atolConfig = (sim: AtolSimulator, extra = '', password = sim.password) =>
  `sources:\n  - name: atol-cloud\n    type: atol\n    url: "${sim.url}"\n    login: ${sim.login}\n    password: "${password}"\n${extra}`;

const upCount = (s: Series[], value: number) => find(s, 'kkt_up', { source: 'atol-cloud' }).filter((x) => x.value === value).length;

describe('ATOL source against the simulated cloud: 1,000 registers over 10 pages', () => {
  let sim: AtolSimulator;
  let app: RunningExporter;
  let first: Series[];

  beforeAll(async () => {
    sim = await AtolSimulator.start({ registers: generatedAtolFleet(1000) });
    app = await startExporter(atolConfig(sim));
    first = await scrape(app);
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('exposes all 1,000 registers with kkt_up 1 from 10 page calls', () => {
    expect(upCount(first, 1)).toBe(1000);
    expect(sim.pageCalls).toBe(10);
    expect(valueOf(first, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
    const r = sim.registers[7] as AtolRecord;
    expect(valueOf(first, 'kkt_fn_usage_percent', { kkt: r.serialNumber })).toBe(r.fiscalStoragePercentageUse);
    expect(valueOf(first, 'kkt_fn_expiry_timestamp_seconds', { kkt: r.serialNumber })).toBe(Date.parse(String(r.fiscalStorageExpiration)) / 1000);
    expect(find(first, 'kkt_info', { kkt: r.serialNumber })[0]?.labels).toMatchObject({ rnm: r.registrationNumber, fn_serial: r.fiscalStorageSerialNumber });
  });

  it('makes exactly one auth call over 10 consecutive scrapes', async () => {
    for (let i = 1; i < 10; i++) await scrape(app);
    expect(sim.authCalls).toBe(1);
    expect(sim.pageCalls).toBe(100);
  });

  it('renews a token that expires mid-scrape once, and the scrape still succeeds', async () => {
    const auths = sim.authCalls;
    sim.expireTokens(3);
    const s = await scrape(app);
    expect(sim.authCalls).toBe(auths + 1);
    expect(upCount(s, 1)).toBe(1000);
    expect(valueOf(s, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
    expect(valueOf(s, 'kkt_exporter_requests_total', { source: 'atol-cloud', endpoint: 'page', code: '401' })).toBeGreaterThan(0);
  });

  it('with a 500 on page 3 exposes the other 900 with kkt_up 1, page 3\'s registers with kkt_up 0, and fails the source', async () => {
    sim.failingOffsets.add(200);
    try {
      const s = await scrape(app);
      expect(upCount(s, 1)).toBe(900);
      expect(upCount(s, 0)).toBe(100);
      expect(valueOf(s, 'kkt_up', { kkt: (sim.registers[250] as AtolRecord).serialNumber })).toBe(0);
      expect(find(s, 'kkt_fn_usage_percent', { kkt: (sim.registers[250] as AtolRecord).serialNumber })).toEqual([]);
      expect(valueOf(s, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
      expect(app.logs.some((l) => l.level === 'error' && l.fields.source === 'atol-cloud' && l.fields.offset === 200 && /HTTP 500/.test(String(l.fields.err)))).toBe(true);
    } finally {
      sim.failingOffsets.clear();
    }
  });

  it('counts a register that appears on two pages once', async () => {
    const saved = sim.registers;
    sim.registers = [...saved.slice(0, 100), saved[99] as AtolRecord, ...saved.slice(100, 999)];
    try {
      const s = await scrape(app);
      expect(find(s, 'kkt_up', { kkt: (saved[99] as AtolRecord).serialNumber })).toHaveLength(1);
      expect(upCount(s, 1)).toBe(999);
    } finally {
      sim.registers = saved;
    }
  });

  it('probes one register by serial number, and answers kkt_up 0 for an unknown one', async () => {
    const serial = (sim.registers[3] as AtolRecord).serialNumber;
    const one = parseMetrics((await get(`${app.url}/probe?source=atol-cloud&target=${serial}`)).text);
    expect(valueOf(one, 'kkt_up', { kkt: serial })).toBe(1);
    expect(valueOf(one, 'kkt_probe_endpoint_success', { kkt: serial, endpoint: 'register' })).toBe(1);
    expect(sim.registerCalls).toBe(1);
    const res = await get(`${app.url}/probe?source=atol-cloud&target=00000000000000`);
    expect(res.status).toBe(200);
    const missing = parseMetrics(res.text);
    expect(valueOf(missing, 'kkt_up', { kkt: '00000000000000' })).toBe(0);
    expect(valueOf(missing, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    expect((await get(`${app.url}/probe?source=atol-cloud&target=../etc`)).status).toBe(400);
  });
});

describe('ATOL wrong credentials', () => {
  let sim: AtolSimulator;
  let app: RunningExporter;

  beforeAll(async () => {
    sim = await AtolSimulator.start({ registers: generatedAtolFleet(5) });
    app = await startExporter(atolConfig(sim, '', 'not-the-password'));
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('fails the source cleanly, says so in the log and a counter, and does not retry in a loop', async () => {
    const first = await scrape(app);
    const second = await scrape(app);
    expect(valueOf(first, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    expect(valueOf(second, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    expect(find(second, 'kkt_up', { source: 'atol-cloud' })).toEqual([]);
    expect(sim.authCalls).toBe(1);
    expect(sim.pageCalls).toBe(0);
    expect(valueOf(second, 'kkt_exporter_auth_requests_total', { source: 'atol-cloud', result: 'wrong_credentials' })).toBe(1);
    const line = app.logs.find((l) => l.level === 'error' && l.fields.source === 'atol-cloud');
    expect(String(line?.fields.err)).toMatch(/WrongLoginOrPassword/);
    expect(JSON.stringify(app.logs)).not.toContain('not-the-password');
  });
});
