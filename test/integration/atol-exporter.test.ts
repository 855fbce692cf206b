import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AtolSimulator, generatedAtolFleet, type AtolPagingFault, type AtolRecord } from '../../src/simulator/atol.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { get, scrapeSeries as scrape, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf, type Series } from '../support/metrics.js';

const atolConfig = (sim: AtolSimulator, extra = '', password = sim.password) =>
  `sources:\n  - name: atol-cloud\n    type: atol\n    url: "${sim.url}"\n    login: ${sim.login}\n    password: "${password}"\n${extra}`;

const upCount = (s: Series[], value: number) => find(s, 'kkt_up', { source: 'atol-cloud' }).filter((x) => x.value === value).length;

describe('ATOL source against the simulated cloud: 1,000 registers over 10 pages', () => {
  let sim: AtolSimulator;
  let app: RunningExporter;
  let first: Series[];
  let firstPageCalls: number;

  beforeAll(async () => {
    sim = await AtolSimulator.start({ registers: generatedAtolFleet(1000) });
    app = await startExporter(atolConfig(sim));
    first = await scrape(app);
    firstPageCalls = sim.pageCalls;
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('exposes all 1,000 registers with kkt_up 1 from 10 page calls', () => {
    expect(upCount(first, 1)).toBe(1000);
    expect(firstPageCalls).toBe(10);
    expect(valueOf(first, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
    const r = sim.registers[7] as AtolRecord;
    expect(valueOf(first, 'kkt_fn_usage_percent', { kkt: r.serialNumber })).toBe(r.fiscalStoragePercentageUse);
    expect(valueOf(first, 'kkt_fn_expiry_timestamp_seconds', { kkt: r.serialNumber })).toBe(Date.parse(String(r.fiscalStorageExpiration)) / 1000);
    expect(find(first, 'kkt_info', { kkt: r.serialNumber })[0]?.labels).toMatchObject({ rnm: r.registrationNumber, fn_serial: r.fiscalStorageSerialNumber });
  });

  it('makes exactly one auth call over 10 consecutive scrapes', async () => {
    const fresh = await startExporter(atolConfig(sim));
    const auths = sim.authCalls;
    const pages = sim.pageCalls;
    try {
      for (let i = 0; i < 10; i++) await scrape(fresh);
    } finally {
      await fresh.stop();
    }
    expect(sim.authCalls - auths).toBe(1);
    expect(sim.pageCalls - pages).toBe(100);
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
    const registerCalls = sim.registerCalls;
    const one = parseMetrics((await get(`${app.url}/probe?source=atol-cloud&target=${serial}`)).text);
    expect(valueOf(one, 'kkt_up', { kkt: serial })).toBe(1);
    expect(valueOf(one, 'kkt_probe_endpoint_success', { kkt: serial, endpoint: 'register' })).toBe(1);
    expect(sim.registerCalls - registerCalls).toBe(1);
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

describe('ATOL against a service that gets its paging wrong (issue 14): 250 registers, max_registers 1000', () => {
  const MAX_REGISTERS = 1000;
  let fleet: SimulatedFleet;
  let control: string;
  let healthy: AtolSimulator;
  let app: RunningExporter;
  let sim: AtolSimulator;
  let known: string[];

  /** Switches the service's paging misbehaviour through the simulator's control API. */
  const setPaging = async (paging: AtolPagingFault | null, extra: object = {}) => {
    const res = await fetch(`${control}/atol`, { method: 'PATCH', body: JSON.stringify({ paging, ...extra }) });
    expect(res.status).toBe(200);
  };
  /** A scrape with the page and auth calls it cost. */
  const scrapeCounting = async () => {
    const pages = sim.pageCalls;
    const auths = sim.authCalls;
    const s = await scrape(app);
    return { s, pageCalls: sim.pageCalls - pages, authCalls: sim.authCalls - auths };
  };
  const success = (s: Series[], source = 'atol-cloud') => valueOf(s, 'kkt_probe_success', { source });
  const knownUp = (s: Series[]) => known.map((kkt) => valueOf(s, 'kkt_up', { source: 'atol-cloud', kkt }));
  const errorsSince = (from: number) => app.logs.slice(from).filter((l) => l.level === 'error' && l.fields.source === 'atol-cloud').map((l) => String(l.fields.err));
  const healthyIntact = (s: Series[]) => {
    expect(success(s, 'atol-ok')).toBe(1);
    expect(find(s, 'kkt_up', { source: 'atol-ok' }).map((x) => x.value)).toEqual([1, 1, 1]);
  };

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: [], atol: { registers: generatedAtolFleet(250) } });
    control = await fleet.startControl();
    sim = fleet.atol as AtolSimulator;
    healthy = await AtolSimulator.start({ registers: generatedAtolFleet(3) });
    const okSource = `  - name: atol-ok\n    type: atol\n    url: "${healthy.url}"\n    login: ${healthy.login}\n    password: "${healthy.password}"\n`;
    app = await startExporter(atolConfig(sim, `    max_registers: ${MAX_REGISTERS}\n${okSource}`));
    const first = await scrape(app);
    known = find(first, 'kkt_up', { source: 'atol-cloud' }).map((x) => x.labels.kkt as string);
    expect(known).toHaveLength(250);
    expect(success(first)).toBe(1);
  });
  afterAll(async () => {
    await app?.stop();
    await healthy?.stop();
    await fleet?.stop();
  });
  afterEach(async () => {
    await setPaging(null, { latency_ms: 0 });
  });

  // What such a scrape costs in time and memory is measured by the benchmark (bench/atol.mjs).
  it('a total of a billion fails the source after one page call; the process and the other source are intact', async () => {
    const logsBefore = app.logs.length;
    await setPaging('huge_total');
    const { s, pageCalls } = await scrapeCounting();
    expect(pageCalls).toBe(1);
    expect(success(s)).toBe(0);
    expect(knownUp(s).every((v) => v === 0)).toBe(true);
    expect(errorsSince(logsBefore)).toEqual([`the list states a total of 1000000000 registers, more than max_registers (${MAX_REGISTERS})`]);
    healthyIntact(s);
    expect((await get(`${app.url}/-/healthy`)).status).toBe(200);
  });

  it('a negative total fails the source, and the registers known from the last complete list get kkt_up 0', async () => {
    await setPaging('negative_total');
    const { s, pageCalls } = await scrapeCounting();
    expect(pageCalls).toBe(1);
    expect(success(s)).toBe(0);
    expect(knownUp(s).every((v) => v === 0)).toBe(true);
    healthyIntact(s);
  });

  it('a total the pages do not add up to fails the source', async () => {
    const logsBefore = app.logs.length;
    await setPaging('inflated_total');
    const { s } = await scrapeCounting();
    expect(success(s)).toBe(0);
    expect(errorsSince(logsBefore)).toEqual(['the pages held 250 distinct registers, the list says it holds 300']);
  });

  it('a service that caps pages at 10 is paged by its limit: all 250 registers from 25 page calls', async () => {
    await setPaging('capped_limit');
    const { s, pageCalls } = await scrapeCounting();
    expect(pageCalls).toBe(25);
    expect(success(s)).toBe(1);
    expect(knownUp(s).every((v) => v === 1)).toBe(true);
  });

  it('pages that hold the 100 registers asked for but say `limit: 1` are stepped by what they carried: 3 page calls', async () => {
    await setPaging('lying_limit');
    const { s, pageCalls } = await scrapeCounting();
    expect(pageCalls).toBe(3);
    expect(success(s)).toBe(1);
    expect(knownUp(s).every((v) => v === 1)).toBe(true);
  });

  it('a page whose "next" points to itself: 2 page calls, the source fails, the registers not seen get kkt_up 0', async () => {
    await setPaging('self_next');
    const { s, pageCalls } = await scrapeCounting();
    expect(pageCalls).toBe(2);
    expect(success(s)).toBe(0);
    expect(knownUp(s).filter((v) => v === 1)).toHaveLength(100);
    expect(knownUp(s).filter((v) => v === 0)).toHaveLength(150);
    healthyIntact(s);
  });

  it('an endless run of fresh pages stops past max_registers: ceil(1000 / 100) + 1 = 11 page calls', async () => {
    await setPaging('endless');
    const { s, pageCalls } = await scrapeCounting();
    expect(pageCalls).toBe(11);
    expect(success(s)).toBe(0);
    expect(knownUp(s).every((v) => v === 0)).toBe(true);
    healthyIntact(s);
  });

  it('50 concurrent /metrics cost one fleet read: ceil(250 / 100) = 3 page calls, no new login', async () => {
    await setPaging(null, { latency_ms: 300 });
    const pages = sim.pageCalls;
    const auths = sim.authCalls;
    const answers = await Promise.all(Array.from({ length: 50 }, () => scrape(app)));
    expect(sim.pageCalls - pages).toBe(3);
    expect(sim.authCalls - auths).toBe(0);
    for (const s of answers) {
      expect(success(s)).toBe(1);
      expect(knownUp(s).every((v) => v === 1)).toBe(true);
    }
  });
});
