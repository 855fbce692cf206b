import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { demoK24Fleet, generatedK24Fleet, Kassa24Simulator, type K24RegisterControl, type K24RegisterState } from '../../src/simulator/kassa24.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholds } from '../../src/status/thresholds.js';
import { get, scrapeSeries as scrape, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, valueOf, type Series } from '../support/metrics.js';

describe('Kassa24 shift prober against the simulated API', () => {
  let sim: Kassa24Simulator;
  let app: RunningExporter;
  let first: Series[];
  const now = Math.floor(Date.now() / 1000);
  const requestsPerScrape: number[] = [];

  beforeAll(async () => {
    const fleet = demoK24Fleet(now);
    const blocked: K24RegisterState = { id: 80001, name: 'blocked', znm: 'Z1', rnm: 'R1', blocked: 'kkm' };
    const broken: K24RegisterState = { id: 80002, name: 'broken', znm: 'Z2', rnm: 'R2', envelopeError: true };
    sim = await Kassa24Simulator.start({ registers: [...fleet, blocked, broken] });
    app = await startExporter(`sources:\n  - name: kz\n    type: kassa24\n    url: "${sim.url}"\n    login: "${sim.login}"\n    password: "${sim.password}"\n`);
    let before = sim.requests.length;
    first = await scrape(app);
    requestsPerScrape.push(sim.requests.length - before);
    before = sim.requests.length;
    await scrape(app);
    requestsPerScrape.push(sim.requests.length - before);
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('shows shift state and age: one shift open 23.5 h, one closed, one past 24 h', () => {
    expect(valueOf(first, 'kkt_shift_open', { kkt: '70001' })).toBe(1);
    expect(now - (valueOf(first, 'kkt_shift_opened_timestamp_seconds', { kkt: '70001' }) ?? 0)).toBeCloseTo(23.5 * 3600, -1);
    expect(valueOf(first, 'kkt_shift_number', { kkt: '70001' })).toBe(41);
    expect(valueOf(first, 'kkt_shift_open', { kkt: '70002' })).toBe(0);
    expect(valueOf(first, 'kkt_shift_closed_timestamp_seconds', { kkt: '70002' })).toBeCloseTo(now - 2 * 3600, -1);
    expect(find(first, 'kkt_shift_closed_timestamp_seconds', { kkt: '70001' })).toEqual([]);
    expect(now - (valueOf(first, 'kkt_shift_opened_timestamp_seconds', { kkt: '70003' }) ?? 0)).toBeGreaterThan(24 * 3600);
    expect(find(first, 'kkt_info', { kkt: '70000' })[0]?.labels).toMatchObject({ id_kkm: '70000', znm: 'SWK00070000', rnm: '600300070000' });
  });

  it('an expired shift (status 3 from the service) reads as open, so KktShiftExpired can fire', () => {
    expect(valueOf(first, 'kkt_shift_open', { kkt: '70003' })).toBe(1);
    expect(valueOf(first, 'kkt_shift_open', { kkt: '70002' })).toBe(0);
  });

  it('exposes the offline queue, the blocked state and the OFD code where the service sends them, and nothing where it does not', () => {
    expect(valueOf(first, 'kkt_unsent_docs', { kkt: '70001' })).toBe(4);
    expect(valueOf(first, 'kkt_unsent_docs', { kkt: '70000' })).toBe(0);
    expect(valueOf(first, 'kkt_register_blocked', { kkt: '70001' })).toBe(0);
    expect(valueOf(first, 'kkt_ofd_network_error_code', { kkt: '70001' })).toBe(254);
    expect(valueOf(first, 'kkt_ofd_network_error_code', { kkt: '70000' })).toBe(0);
    expect(find(first, 'kkt_info', { source: 'kz' }).filter((s) => 'ofd_code' in s.labels)).toEqual([]);
    expect(find(first, 'kkt_unsent_docs', { kkt: '70002' })).toEqual([]);
    expect(find(first, 'kkt_register_blocked', { kkt: '70002' })).toEqual([]);
    expect(find(first, 'kkt_ofd_network_error_code', { kkt: '70002' })).toEqual([]);
  });

  it('exposes the X-report totals of open shifts, with when the cached report was taken', () => {
    const reg = sim.registers[0] as K24RegisterState;
    expect(valueOf(first, 'kkt_xreport_amount', { kkt: '70000', operation: 'sales' })).toBe(reg.shift?.salesAmount);
    expect(valueOf(first, 'kkt_xreport_operations', { kkt: '70000', operation: 'sales' })).toBe(reg.shift?.salesQty);
    expect(find(first, 'kkt_xreport_cumulative_amount', { kkt: '70000' })).toHaveLength(6);
    expect(valueOf(first, 'kkt_xreport_timestamp_seconds', { kkt: '70000' })).toBeGreaterThanOrEqual(now);
    expect(find(first, 'kkt_xreport_amount', { kkt: '70002' })).toEqual([]);
  });

  it('takes one X-report per open shift over many scrapes within min_interval, none for a closed shift nor one keeping documents offline', async () => {
    for (let i = 0; i < 8; i++) await scrape(app);
    expect(Object.fromEntries(sim.xreports)).toEqual({ 70000: 1, 70003: 1 });
  });

  it('reads a register the service calls blocked as up and blocked, and an error inside a 200 envelope as kkt_up 0, with the vendor\'s message', () => {
    expect(valueOf(first, 'kkt_up', { kkt: '80001' })).toBe(1);
    expect(valueOf(first, 'kkt_register_blocked', { kkt: '80001' })).toBe(1);
    expect(valueOf(first, 'kkt_up', { kkt: '80002' })).toBe(0);
    expect(find(first, 'kkt_up', { source: 'kz' }).filter((s) => s.value === 1)).toHaveLength(5);
    expect(valueOf(first, 'kkt_probe_success', { source: 'kz' })).toBe(0);
    expect(valueOf(first, 'kkt_source_up', { source: 'kz' })).toBe(1);
    const errs = app.logs.filter((l) => l.level === 'warn' && l.fields.source === 'kz').map((l) => `${l.fields.kkt} ${l.fields.err}`);
    expect(errs).toContainEqual(expect.stringMatching(/^80001 HTTP 403: Forbidden: касса заблокирована/));
    expect(errs).toContainEqual(expect.stringMatching(/^80002 Status 500: Internal Server Error/));
  });

  it('makes 1 + N + shifts + due X-reports calls per scrape', () => {
    // 6 registers: GET /kkms, 6 x GET /kkms/:id, 4 x GET /shifts/:id, then 2 X-reports in the first scrape only (+1 login):
    // none for the closed shift, none for 70001, which keeps documents offline.
    expect(requestsPerScrape).toEqual([1 + 1 + 6 + 4 + 2, 1 + 6 + 4]);
  });

  it('renews an expired token once', async () => {
    const auths = sim.authCalls;
    sim.expireTokens();
    const s = await scrape(app);
    expect(sim.authCalls).toBe(auths + 1);
    expect(find(s, 'kkt_up', { source: 'kz' }).filter((x) => x.value === 1)).toHaveLength(5);
  });

  it('takes a new X-report when a new shift opens, and drops the old one when a shift closes', async () => {
    const reg = sim.registers[0] as K24RegisterState;
    const shift = reg.shift as NonNullable<K24RegisterState['shift']>;
    shift.open = false;
    shift.closedAt = now;
    let s = await scrape(app);
    expect(find(s, 'kkt_xreport_amount', { kkt: '70000' })).toEqual([]);
    reg.shift = { ...shift, id: shift.id + 1, index: shift.index + 1, open: true, closedAt: undefined, openedAt: now };
    s = await scrape(app);
    expect(valueOf(s, 'kkt_shift_number', { kkt: '70000' })).toBe(shift.index + 1);
    expect(sim.xreports.get(70000)).toBe(2);
  });

  it('probes one register by IdKkm', async () => {
    const s = await scrape(app, '/probe?source=kz&target=70001');
    expect(valueOf(s, 'kkt_shift_open', { kkt: '70001' })).toBe(1);
    expect(find(s, 'kkt_up')).toHaveLength(1);
    expect((await get(`${app.url}/probe?source=kz&target=abc`)).status).toBe(400);
  });

  it('refuses a reload whose X-report path would reach a Z-report, and keeps the running config', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const good = await readFile(app.configFile, 'utf8');
    await writeFile(app.configFile, `${good}    xreport: { path: "/shifts/{shift}/z" }\n`);
    const res = await fetch(`${app.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/kkt-exporter\.yml:7:\d+: sources\.0\.xreport\.path: must not reach "\/z"/);
    const s = await scrape(app);
    expect(valueOf(s, 'kkt_exporter_config_last_reload_successful')).toBe(0);
    expect(valueOf(s, 'kkt_up', { kkt: '70000' })).toBe(1);
    await writeFile(app.configFile, good);
  });

  it('never opens or closes a shift: only login, reads and X-reports were sent', () => {
    const calls = new Set(sim.requests.map((r) => `${r.method} ${r.path.replace(/\d+/g, ':id')}`));
    expect(calls).toEqual(new Set(['POST /auth', 'GET /kkms', 'GET /kkms/:id', 'GET /shifts/:id', 'POST /shifts/:id/x']));
  });
});

describe('Kassa24 service whose tokens are stale when issued (its clock 25 h behind, tokens live 24 h)', () => {
  let sim: Kassa24Simulator;
  let app: RunningExporter;

  beforeAll(async () => {
    sim = await Kassa24Simulator.start({ registers: demoK24Fleet(), clockOffsetMs: -25 * 3600_000 });
    app = await startExporter(`sources:\n  - name: kz\n    type: kassa24\n    url: "${sim.url}"\n    login: "${sim.login}"\n    password: "${sim.password}"\n    xreport: { enabled: false }\n`);
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('logs in once over 3 scrapes, warns once, and logs in again only when the service says 401', async () => {
    for (let i = 0; i < 3; i++) {
      const s = await scrape(app);
      expect(find(s, 'kkt_up', { source: 'kz' }).filter((x) => x.value === 1)).toHaveLength(4);
    }
    expect(sim.authCalls).toBe(1);
    const stale = app.logs.filter((l) => l.level === 'warn' && /stated expiry has passed/.test(l.msg));
    expect(stale).toHaveLength(1);
    expect(stale[0]?.fields.expires_in_seconds).toBeCloseTo(-3600, -2);
    sim.expireTokens();
    await scrape(app);
    expect(sim.authCalls).toBe(2);
    expect(app.logs.filter((l) => /stated expiry has passed/.test(l.msg))).toHaveLength(1);
  });
});

describe('Kassa24 X-report refused to a login that did not open the shift', () => {
  let sim: Kassa24Simulator;
  let app: RunningExporter;

  beforeAll(async () => {
    const fleet = demoK24Fleet();
    const shift = fleet[0]?.shift;
    if (shift) shift.xreportRefused = true;
    sim = await Kassa24Simulator.start({ registers: fleet });
    app = await startExporter(`sources:\n  - name: kz\n    type: kassa24\n    url: "${sim.url}"\n    login: "${sim.login}"\n    password: "${sim.password}"\n`);
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('keeps the register up and the source successful, reports the xreport endpoint 0, and warns once per shift with the vendor message', async () => {
    for (let i = 0; i < 3; i++) {
      const s = await scrape(app);
      expect(valueOf(s, 'kkt_up', { kkt: '70000' })).toBe(1);
      expect(valueOf(s, 'kkt_probe_success', { source: 'kz' })).toBe(1);
      expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70000', endpoint: 'xreport' })).toBe(0);
      expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70003', endpoint: 'xreport' })).toBe(1);
      expect(find(s, 'kkt_xreport_amount', { kkt: '70000' })).toEqual([]);
    }
    const refusals = app.logs.filter((l) => l.level === 'warn' && l.fields.kkt === '70000');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.msg).toMatch(/refuses X-reports of this shift/);
    expect(refusals[0]?.fields.err).toMatch(/HTTP 403: Указан неверный идентификатор смены/);
    // Not asked again within xreport.min_interval.
    expect(sim.requests.filter((r) => r.path === `/shifts/${sim.registers[0]?.shift?.id}/x`)).toHaveLength(1);
  });
});

describe('Kassa24 faults switched from the fleet\'s control API: blocked, a failing shift call, an offline queue, the OFD code', () => {
  let fleet: SimulatedFleet;
  let control: string;
  let app: RunningExporter;
  const sim = () => fleet.kassa24 as Kassa24Simulator;
  const patch = async (body: Partial<K24RegisterControl> & { expire_tokens?: boolean }) => {
    const res = await fetch(`${control}/kassa24`, { method: 'PATCH', body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { register?: Record<string, unknown>; error?: string } };
  };
  /** The landing page's row of one register, tags stripped. */
  const landingRow = async (kkt: string) => {
    const page = (await get(`${app.url}/`)).text;
    const row = page.split('<tr>').find((r) => r.startsWith(`<td><b>${kkt}</b>`)) ?? '';
    return row.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  };

  beforeAll(async () => {
    // Six open shifts, opened 1 to 6 hours ago; no backend fields until the test sets them.
    fleet = await SimulatedFleet.start({ ukm: [], kassa24: { registers: generatedK24Fleet(6) } });
    control = await fleet.startControl();
    app = await startExporter(fleet.exporterConfig(), { thresholds: { ok: true, thresholds: await loadThresholds(DEFAULT_THRESHOLDS_FILE) } });
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('the blocked answer on GET /kkms/:id, on the shift and on the X-report each set kkt_register_blocked 1, the register up', async () => {
    const before = sim().xreports.get(70001) ?? 0;
    expect((await patch({ register: 70000, blocked: 'kkm' })).body.register).toMatchObject({ blocked: 'kkm' });
    await patch({ register: 70001, blocked: 'xreport' });
    await patch({ register: 70002, blocked: 'shift', status_kkm: 1 });
    const s = await scrape(app);
    for (const kkt of ['70000', '70001', '70002']) {
      expect(valueOf(s, 'kkt_up', { kkt }), kkt).toBe(1);
      expect(valueOf(s, 'kkt_register_blocked', { kkt }), kkt).toBe(1);
    }
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70000', endpoint: 'kkm' })).toBe(0);
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70001', endpoint: 'xreport' })).toBe(0);
    expect(valueOf(s, 'kkt_shift_open', { kkt: '70001' })).toBe(1);
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70002', endpoint: 'shift' })).toBe(0);
    expect(find(s, 'kkt_info', { kkt: '70002' })[0]?.labels).toMatchObject({ znm: 'SWK00070002' });
    expect(sim().xreports.get(70001) ?? 0).toBe(before);
    expect(valueOf(s, 'kkt_register_blocked', { kkt: '70003' })).toBeUndefined();
    expect(await landingRow('70000')).toContain('blocked by the vendor: it cannot sell');
    await patch({ register: 70000, blocked: null });
    await patch({ register: 70002, blocked: null });
    const cleared = await scrape(app);
    expect(find(cleared, 'kkt_register_blocked', { kkt: '70000' })).toEqual([]);
    expect(valueOf(cleared, 'kkt_register_blocked', { kkt: '70002' })).toBe(0);
  });

  it('a shift call answering 500 leaves the register up and partly read: shift endpoint 0, the reason on the landing page', async () => {
    expect((await patch({ register: 70003, shift_fault: 500 })).body.register).toMatchObject({ shift_fault: 500 });
    const s = await scrape(app);
    expect(valueOf(s, 'kkt_up', { kkt: '70003' })).toBe(1);
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70003', endpoint: 'kkm' })).toBe(1);
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70003', endpoint: 'shift' })).toBe(0);
    expect(find(s, 'kkt_shift_open', { kkt: '70003' })).toEqual([]);
    expect(valueOf(s, 'kkt_source_up', { source: 'kz' })).toBe(1);
    expect(await landingRow('70003')).toMatch(/partly read: cannot read the shift: HTTP 500: Internal Server Error/);
    await patch({ register: 70003, shift_fault: null });
    expect(valueOf(await scrape(app), 'kkt_probe_endpoint_success', { kkt: '70003', endpoint: 'shift' })).toBe(1);
  });

  it('takes no X-report while documents are kept offline: the cached totals stay with their old timestamp, and the page says why', async () => {
    const taken = await scrape(app);
    const takenAt = valueOf(taken, 'kkt_xreport_timestamp_seconds', { kkt: '70004' }) as number;
    const sales = valueOf(taken, 'kkt_xreport_amount', { kkt: '70004', operation: 'sales' });
    expect(sales).toBeGreaterThan(0);
    const xreports = { 70004: sim().xreports.get(70004), 70005: sim().xreports.get(70005) };
    expect(xreports).toEqual({ 70004: 1, 70005: 1 });
    await patch({ register: 70004, offline_queue: 3 });
    // An hour later: past xreport.min_interval, so every register with no backlog gets a new X-report.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 });
    let s: Awaited<ReturnType<typeof scrape>>;
    let row: string;
    try {
      s = await scrape(app);
      row = await landingRow('70004');
    } finally {
      vi.useRealTimers();
    }
    expect(sim().xreports.get(70004)).toBe(1);
    expect(sim().xreports.get(70005)).toBe(2);
    expect(valueOf(s, 'kkt_unsent_docs', { kkt: '70004' })).toBe(3);
    expect(valueOf(s, 'kkt_xreport_timestamp_seconds', { kkt: '70004' })).toBe(takenAt);
    expect(valueOf(s, 'kkt_xreport_amount', { kkt: '70004', operation: 'sales' })).toBe(sales);
    expect(find(s, 'kkt_probe_endpoint_success', { kkt: '70004', endpoint: 'xreport' })).toEqual([]);
    const at = new Date(takenAt * 1000).toISOString();
    expect(row).toMatch(new RegExp(`X-report not taken: 3 documents kept offline; totals from (${at.slice(0, 10)} )?${at.slice(11, 16)} UTC`));
  });

  it('exposes OfdCode as kkt_ofd_network_error_code, never as a kkt_info label', async () => {
    await patch({ register: 70005, ofd_code: '254' });
    const s = await scrape(app);
    expect(valueOf(s, 'kkt_ofd_network_error_code', { kkt: '70005' })).toBe(254);
    expect(find(s, 'kkt_info', { kkt: '70005' })[0]?.labels).not.toHaveProperty('ofd_code');
    expect(find(s, 'kkt_ofd_network_error_code', { kkt: '70004' })).toEqual([]);
    await patch({ register: 70005, ofd_code: 'offline' });
    const odd = await scrape(app);
    expect(find(odd, 'kkt_ofd_network_error_code', { kkt: '70005' })).toEqual([]);
    expect(valueOf(odd, 'kkt_up', { kkt: '70005' })).toBe(1);
  });

  it('a wrong-cashier refusal switched on for the current shift is expected: up, not blocked, the source successful', async () => {
    expect((await patch({ register: 70002, xreport_refused: true })).body.register).toMatchObject({ xreport_refused: true });
    const before = sim().xreports.get(70002);
    // Two hours on: every X-report is due again.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 3_600_000 });
    let s: Awaited<ReturnType<typeof scrape>>;
    try {
      s = await scrape(app);
    } finally {
      vi.useRealTimers();
    }
    expect(valueOf(s, 'kkt_up', { kkt: '70002' })).toBe(1);
    expect(valueOf(s, 'kkt_register_blocked', { kkt: '70002' })).toBe(0);
    expect(valueOf(s, 'kkt_probe_endpoint_success', { kkt: '70002', endpoint: 'xreport' })).toBe(0);
    expect(find(s, 'kkt_xreport_amount', { kkt: '70002' })).toEqual([]);
    expect(sim().xreports.get(70002)).toBe(before);
    expect(valueOf(s, 'kkt_probe_success', { source: 'kz' })).toBe(1);
    expect(app.logs.filter((l) => l.fields.kkt === '70002' && /refuses X-reports of this shift/.test(l.msg))).toHaveLength(1);
  });

  it('refuses a register it does not have and a fault it does not know; the old keys still work', async () => {
    expect(await patch({ register: 1, blocked: 'kkm' })).toMatchObject({ status: 404 });
    expect(await patch({ register: 70000, blocked: 'everywhere' as never })).toMatchObject({ status: 400 });
    expect(await patch({ register: 70000, shift_fault: 200 })).toMatchObject({ status: 400 });
    const auths = sim().authCalls;
    expect((await patch({ expire_tokens: true })).status).toBe(200);
    await scrape(app);
    expect(sim().authCalls).toBe(auths + 1);
  });
});

describe('Kassa24 login refused: the source itself fails', () => {
  let sim: Kassa24Simulator;

  beforeAll(async () => {
    sim = await Kassa24Simulator.start({ registers: demoK24Fleet() });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it.each([
    ['with kkms', '    kkms: [70000, 70001]\n'],
    ['without kkms', ''],
  ])('%s: kkt_source_up 0, and no register call is made', async (_name, configured) => {
    const app = await startExporter(`sources:\n  - name: kz\n    type: kassa24\n    url: "${sim.url}"\n    login: "${sim.login}"\n    password: "wrong"\n${configured}`);
    try {
      const before = sim.requests.length;
      const s = await scrape(app);
      expect(valueOf(s, 'kkt_source_up', { source: 'kz' })).toBe(0);
      expect(valueOf(s, 'kkt_probe_success', { source: 'kz' })).toBe(0);
      expect(sim.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /auth']);
      if (configured) expect(find(s, 'kkt_up', { source: 'kz' }).map((x) => [x.labels.kkt, x.value])).toEqual([['70000', 0], ['70001', 0]]);
    } finally {
      await app.stop();
    }
  });
});

describe('Kassa24 /probe reads only the registers the exporter monitors (an X-report is a fiscal document)', () => {
  let sim: Kassa24Simulator;
  const kz = (extra = '') => `sources:\n  - name: kz\n    type: kassa24\n    url: "${sim.url}"\n    login: "${sim.login}"\n    password: "${sim.password}"\n${extra}`;
  /** Calls the service got for register `id` (its record, its shift, its X-report). */
  const callsFor = (id: number) => sim.requests.filter((r) => r.path === `/kkms/${id}` || r.path.startsWith(`/shifts/${id * 100}`)).length;

  beforeAll(async () => {
    // Every register has an open shift: reading one would take an X-report.
    sim = await Kassa24Simulator.start({ registers: generatedK24Fleet(4) });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('with kkms, a register of the same account outside them is an unknown target: 400, not one call, no X-report', async () => {
    const app = await startExporter(kz('    kkms: [70000, 70001, 70002]\n'));
    try {
      const before = callsFor(70003);
      const res = await get(`${app.url}/probe?source=kz&target=70003`);
      expect(res.status).toBe(400);
      expect(res.text).toBe('register 70003 is not in the kkms of source "kz": add it there to probe it\n');
      expect(callsFor(70003)).toBe(before);
      expect(sim.xreports.get(70003)).toBeUndefined();
      expect(valueOf(await scrape(app, '/probe?source=kz&target=70001'), 'kkt_up', { kkt: '70001' })).toBe(1);
      expect((await get(`${app.url}/probe?source=kz&target=070001`)).status).toBe(400);
    } finally {
      await app.stop();
    }
  });

  it('without kkms, a register is a target once GET /kkms has listed it; before the first list any is, as asked', async () => {
    const app = await startExporter(kz());
    try {
      // A /probe job of single registers works from its first scrape: the account's own registers answer.
      expect(valueOf(await scrape(app, '/probe?source=kz&target=70001'), 'kkt_up', { kkt: '70001' })).toBe(1);
      await scrape(app, '/probe?source=kz');
      expect(valueOf(await scrape(app, '/probe?source=kz&target=70001'), 'kkt_up', { kkt: '70001' })).toBe(1);
      const unlisted = await get(`${app.url}/probe?source=kz&target=4001`);
      expect(unlisted.status).toBe(400);
      expect(unlisted.text).toBe('register 4001 is not in the register list of source "kz" (GET /kkms) at its last read\n');
      expect(sim.requests.filter((r) => r.path.includes('4001'))).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});
