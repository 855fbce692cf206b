import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BK_SESSION_COOKIE, bkTime, BusinessKassaSimulator, demoBkFleet, generatedBkFleet, type BkAuth, type BkRecord } from '../../src/simulator/businesskassa.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholds } from '../../src/status/thresholds.js';
import { get, scrapeSeries as scrape, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, valueOf, type Series } from '../support/metrics.js';

const bkConfig = (sim: BusinessKassaSimulator, auth: string, extra = '') =>
  `global: { timezone: Europe/Moscow }\nsources:\n  - name: bk\n    type: businesskassa\n    url: "${sim.url}"\n    auth: ${auth}\n${extra}`;

describe('BusinessKassa source against the simulated service (cookie auth, /v1 prefix)', () => {
  let sim: BusinessKassaSimulator;
  let app: RunningExporter;
  let s: Series[];
  const now = Math.floor(Date.now() / 60_000) * 60; // whole minutes: the service sends no seconds

  beforeAll(async () => {
    const registers = [...demoBkFleet(now), ...generatedBkFleet(20).slice(5)];
    (registers[2] as BkRecord).timestamp = bkTime(now - 60); // the hot one last reported a minute ago
    const circuits = [{ id: 77, inn: '770900467024', title: 'Test', frs: registers.slice(0, 3).map((r, i) => ({ eip: r.eip, type: 'pkfa12', is_active: (i === 2 ? 0 : 1) as 0 | 1 })) }];
    sim = await BusinessKassaSimulator.start({ registers, circuits });
    app = await startExporter(bkConfig(sim, `{ cookie: "${BK_SESSION_COOKIE}" }`, '    circuits: ["770900467024"]\n'));
    s = await scrape(app);
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('maps the whole fleet', () => {
    expect(find(s, 'kkt_up', { source: 'bk' }).map((x) => x.value)).toEqual(Array(20).fill(1));
    expect(valueOf(s, 'kkt_probe_success', { source: 'bk' })).toBe(1);
    for (const r of sim.registers) {
      expect(valueOf(s, 'kkt_mcu_temperature_celsius', { kkt: r.sn })).toBe(r.mcu_temperature);
      expect(valueOf(s, 'kkt_fn_phase', { kkt: r.sn })).toBe(r.fs.phase);
      expect(valueOf(s, 'kkt_unsent_docs', { kkt: r.sn })).toBe(r.fs.ofd.number);
      expect(find(s, 'kkt_info', { kkt: r.sn })[0]?.labels).toMatchObject({ eip: r.eip, rnm: r.fs.rnm, fn_serial: r.fs.sn, inn: r.fs.inn });
    }
    const [, postFiscal, hot, unsent, ending] = sim.registers as BkRecord[];
    expect(valueOf(s, 'kkt_fn_phase', { kkt: postFiscal?.sn ?? '' })).toBe(7);
    expect(valueOf(s, 'kkt_mcu_temperature_celsius', { kkt: hot?.sn ?? '' })).toBe(78);
    expect(valueOf(s, 'kkt_unsent_oldest_timestamp_seconds', { kkt: unsent?.sn ?? '' })).toBe(now - 2 * 86_400);
    expect(valueOf(s, 'kkt_fn_warning_flags', { kkt: ending?.sn ?? '' })).toBe(3);
    const flags = Object.fromEntries(find(s, 'kkt_fn_warning_flag', { kkt: ending?.sn ?? '' }).map((x) => [x.labels.flag, x.value]));
    expect(flags).toEqual({ urgent_replacement: 1, resource_exhausted: 1, memory_full: 0, ofd_timeout: 0, format_error: 0, setup_required: 0, ofd_cancelled: 0, critical_error: 0 });
    expect(find(s, 'kkt_fn_warning_flag', { source: 'bk' })).toHaveLength(8 * sim.registers.length);
    expect(find(s, 'kkt_unsent_oldest_timestamp_seconds', { source: 'bk' })).toHaveLength(1);
    expect(valueOf(s, 'kkt_status_timestamp_seconds', { kkt: hot?.sn ?? '' })).toBe(now - 60);
  });

  it('exposes which registers are active in the configured circuit', () => {
    const circuit = find(s, 'kkt_circuit_active', { source: 'bk', circuit: '77' });
    expect(circuit.map((x) => [x.labels.kkt, x.value])).toEqual(sim.registers.slice(0, 3).map((r, i) => [r.sn, i === 2 ? 0 : 1]));
  });

  it('probes one register by eip and by serial number', async () => {
    const r = sim.registers[3] as BkRecord;
    expect(valueOf(await scrape(app, `/probe?source=bk&target=${r.eip}`), 'kkt_unsent_docs', { kkt: r.sn })).toBe(23);
    expect(valueOf(await scrape(app, `/probe?source=bk&target=${r.sn}`), 'kkt_unsent_docs', { kkt: r.sn })).toBe(23);
    expect(sim.requests.filter((q) => q.path === `/v1/frs/${r.eip}`)).toHaveLength(2);
    expect(valueOf(await scrape(app, '/probe?source=bk&target=10.9.9.9:1'), 'kkt_up')).toBe(0);
  });

  it('skips a malformed record (kkt_up 0, a log line) and keeps the rest of the fleet', async () => {
    const saved = sim.registers;
    const bad = { ...(saved[6] as BkRecord), fs: { ...(saved[6] as BkRecord).fs, phase: 'fiscal' } } as unknown as BkRecord;
    sim.registers = [...saved.slice(0, 6), bad, ...saved.slice(7)];
    try {
      const m = await scrape(app);
      expect(valueOf(m, 'kkt_up', { kkt: bad.sn })).toBe(0);
      expect(find(m, 'kkt_fn_phase', { kkt: bad.sn })).toEqual([]);
      expect(find(m, 'kkt_up', { source: 'bk' }).filter((x) => x.value === 1)).toHaveLength(19);
      expect(app.logs.some((l) => l.level === 'warn' && l.fields.kkt === bad.sn && /fs\.phase/.test(String(l.fields.err)))).toBe(true);
    } finally {
      sim.registers = saved;
    }
  });

  it('makes only GET calls to the service', () => {
    expect(sim.writeCalls).toBe(0);
    expect(new Set(sim.requests.map((r) => r.path.replace(/\/frs\/.+/, '/frs/:eip')))).toEqual(new Set(['/v1/frs', '/v1/frs/:eip', '/v1/fcircuit/770900467024']));
  });
});

describe('BusinessKassa auth variants', () => {
  const cases: Array<[string, BkAuth, string]> = [
    ['bearer token', { bearer: 'tok-123' }, '{ bearer_token: tok-123 }'],
    ['basic auth', { basic: { username: 'mon', password: 'pw-456' } }, '{ basic_auth: { username: mon, password: pw-456 } }'],
    ['a custom header', { header: { name: 'X-Api-Key', value: 'key-789' } }, '{ headers: { X-Api-Key: key-789 } }'],
  ];
  it.each(cases)('accepts %s', async (_what, auth, yaml) => {
    const sim = await BusinessKassaSimulator.start({ registers: generatedBkFleet(3), auth });
    const app = await startExporter(bkConfig(sim, yaml));
    try {
      const s = await scrape(app);
      expect(find(s, 'kkt_up', { source: 'bk' }).map((x) => x.value)).toEqual([1, 1, 1]);
    } finally {
      await app.stop();
      await sim.stop();
    }
  });

  it('reports a wrong cookie as a clean auth failure of the source', async () => {
    const sim = await BusinessKassaSimulator.start({ registers: generatedBkFleet(3) });
    const app = await startExporter(bkConfig(sim, '{ cookie: "bkapisessionid=stale-session" }'));
    try {
      const s = await scrape(app);
      expect(valueOf(s, 'kkt_probe_success', { source: 'bk' })).toBe(0);
      expect(find(s, 'kkt_up', { source: 'bk' })).toEqual([]);
      expect(valueOf(s, 'kkt_exporter_auth_requests_total', { source: 'bk', result: 'wrong_credentials' })).toBe(1);
      const line = app.logs.find((l) => l.level === 'error' && l.fields.source === 'bk');
      expect(String(line?.fields.err)).toMatch(/credentials rejected \(HTTP 401/);
      expect(JSON.stringify(app.logs)).not.toContain('stale-session');
    } finally {
      await app.stop();
      await sim.stop();
    }
  });
});

describe('BusinessKassa times in a wrong zone and a failing circuit call, switched from the control API', () => {
  let fleet: SimulatedFleet;
  let control: string;
  let app: RunningExporter;
  const INN = '770900467024';
  const patch = async (body: object) => {
    const res = await fetch(`${control}/businesskassa`, { method: 'PATCH', body: JSON.stringify(body) });
    expect(res.status).toBe(200);
  };
  const fcircuit = (s: Series[]) => find(s, 'kkt_probe_endpoint_success', { source: 'bk', endpoint: 'fcircuit' }).map((x) => [x.labels.kkt, x.value]);
  const clockLines = () => app.logs.filter((l) => l.fields.source === 'bk' && /vendor times/.test(l.msg));

  beforeAll(async () => {
    const registers = generatedBkFleet(6);
    const circuits = [{ id: 9, inn: INN, title: 'Test', frs: registers.slice(0, 4).map((r) => ({ eip: r.eip, type: 'pkfa12', is_active: 1 as const })) }];
    fleet = await SimulatedFleet.start({ ukm: [], businesskassa: { registers, circuits } });
    control = await fleet.startControl();
    app = await startExporter(fleet.exporterConfig(), { thresholds: { ok: true, thresholds: await loadThresholds(DEFAULT_THRESHOLDS_FILE) } });
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('times in the right zone: kkt_source_clock_offset_seconds 0, no log line, no remark on the page', async () => {
    const s = await scrape(app);
    expect(valueOf(s, 'kkt_source_clock_offset_seconds', { source: 'bk' })).toBe(0);
    expect(clockLines()).toEqual([]);
    expect((await get(`${app.url}/`)).text).not.toContain('times read');
  });

  it('times served 3 h ahead: offset 10800 on every scrape, one log line, and the source row says to check `timezone`', async () => {
    await patch({ clock_offset_hours: 3 });
    for (let i = 0; i < 3; i++) expect(valueOf(await scrape(app), 'kkt_source_clock_offset_seconds', { source: 'bk' })).toBe(10_800);
    expect(clockLines()).toHaveLength(1);
    expect(clockLines()[0]).toMatchObject({ level: 'warn', fields: { offset_seconds: 10_800, problem: 'times read 3 h ahead: check `timezone`' } });
    const page = (await get(`${app.url}/`)).text;
    expect(page).toMatch(/<tr><td><a href="#source-bk">bk<\/a><\/td>.*times read 3 h ahead: check `timezone`.*<\/tr>/);
    expect(page).toMatch(/Last read: .*times read 3 h ahead: check `timezone`/);
    await patch({ clock_offset_hours: 0 });
    expect(valueOf(await scrape(app), 'kkt_source_clock_offset_seconds', { source: 'bk' })).toBe(0);
    expect(clockLines().map((l) => l.level)).toEqual(['warn', 'info']);
    expect((await get(`${app.url}/`)).text).not.toContain('times read');
  });

  it('a failing circuit call: endpoint fcircuit 0 for the registers it had at its last read, 1 once it is read again', async () => {
    const members = fleet.businesskassa?.registers.slice(0, 4).map((r) => r.sn) ?? [];
    expect(fcircuit(await scrape(app))).toEqual(members.map((kkt) => [kkt, 1]));
    await patch({ circuit_fault: 500 });
    const s = await scrape(app);
    expect(fcircuit(s)).toEqual(members.map((kkt) => [kkt, 0]));
    expect(find(s, 'kkt_up', { source: 'bk' }).map((x) => x.value)).toEqual(Array(6).fill(1));
    expect(valueOf(s, 'kkt_probe_success', { source: 'bk' })).toBe(0);
    expect(find(s, 'kkt_circuit_active', { source: 'bk' })).toEqual([]);
    const page = (await get(`${app.url}/`)).text;
    expect(page).toMatch(new RegExp(`<b>${members[0]}</b>.*partly read: cannot read fiscal circuit ${INN}: HTTP 500`));
    await patch({ circuit_fault: null });
    expect(fcircuit(await scrape(app))).toEqual(members.map((kkt) => [kkt, 1]));
  });

  it('a circuit that lists each register twice, active then not (or the other way): one kkt_circuit_active each, 0, said once in the log', async () => {
    const members = fleet.businesskassa?.registers.slice(0, 4).map((r) => r.sn) ?? [];
    const before = app.logs.length;
    await patch({ circuit_repeats: true });
    try {
      for (let i = 0; i < 2; i++) {
        const s = await scrape(app);
        expect(find(s, 'kkt_circuit_active', { source: 'bk' }).map((x) => [x.labels.kkt, x.value])).toEqual(members.map((kkt) => [kkt, 0]));
        expect(fcircuit(s)).toEqual(members.map((kkt) => [kkt, 1]));
      }
      const lines = app.logs.slice(before).filter((l) => l.fields.source === 'bk' && /lists a register more than once/.test(l.msg));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'warn', fields: { registers: 4, first: members.map((kkt) => `9/${kkt}`).join(' ') } });
    } finally {
      await patch({ circuit_repeats: false });
    }
    expect(find(await scrape(app), 'kkt_circuit_active', { source: 'bk' }).map((x) => x.value)).toEqual([1, 1, 1, 1]);
  });

  it('a circuit never read yet: a source-level failure and a log line, no register blamed', async () => {
    await patch({ circuit_fault: 503 });
    const fresh = await startExporter(fleet.exporterConfig());
    try {
      const s = await scrape(fresh);
      expect(fcircuit(s)).toEqual([]);
      expect(valueOf(s, 'kkt_probe_success', { source: 'bk' })).toBe(0);
      expect(fresh.logs.filter((l) => l.msg === 'cannot read the fiscal circuit' && l.fields.circuit === INN)).toHaveLength(1);
    } finally {
      await fresh.stop();
      await patch({ circuit_fault: null });
    }
  });
});

describe('BusinessKassa circuits that repeat a register', () => {
  it('two configured INNs answering with one circuit id: one kkt_circuit_active per register, inactive if either says so', async () => {
    const registers = generatedBkFleet(3);
    const entry = (r: BkRecord, active: 0 | 1) => ({ eip: r.eip, type: 'pkfa12', is_active: active });
    const [a, b, c] = registers as [BkRecord, BkRecord, BkRecord];
    const circuits = [
      { id: 5, inn: '7709', title: 'T', frs: [entry(a, 1), entry(b, 1)] },
      { id: 5, inn: '7710', title: 'T again', frs: [entry(b, 0), entry(c, 1)] },
    ];
    const sim = await BusinessKassaSimulator.start({ registers, circuits });
    const app = await startExporter(bkConfig(sim, `{ cookie: "${BK_SESSION_COOKIE}" }`, '    circuits: ["7709", "7710"]\n'));
    try {
      const s = await scrape(app);
      expect(find(s, 'kkt_circuit_active', { source: 'bk', circuit: '5' }).map((x) => [x.labels.kkt, x.value])).toEqual([[a.sn, 1], [b.sn, 0], [c.sn, 1]]);
      expect(valueOf(s, 'kkt_probe_success', { source: 'bk' })).toBe(1);
    } finally {
      await app.stop();
      await sim.stop();
    }
  });
});

describe('BusinessKassa circuit_path: the alternative path of the hosted API', () => {
  it('reads a circuit where circuit_path says; a register listed twice is one series', async () => {
    const registers = generatedBkFleet(2);
    const entries = registers.map((r) => ({ eip: r.eip, type: 'pkfa12', is_active: 1 as const }));
    const circuits = [{ id: 5, inn: '7709', title: 'T', frs: [...entries, ...entries.slice(0, 1)] }];
    const sim = await BusinessKassaSimulator.start({ registers, circuits, circuitPath: '/orgs/{inn}/fcircuit' });
    const app = await startExporter(bkConfig(sim, `{ cookie: "${BK_SESSION_COOKIE}" }`, '    circuits: ["7709"]\n    circuit_path: /orgs/{inn}/fcircuit\n'));
    try {
      const s = await scrape(app);
      expect(find(s, 'kkt_circuit_active', { source: 'bk', circuit: '5' }).map((x) => x.value)).toEqual([1, 1]);
      expect(find(s, 'kkt_probe_endpoint_success', { source: 'bk', endpoint: 'fcircuit' }).map((x) => x.value)).toEqual([1, 1]);
      expect(sim.requests.map((r) => r.path)).toContain('/v1/orgs/7709/fcircuit');
    } finally {
      await app.stop();
      await sim.stop();
    }
  });
});

describe('BusinessKassa /probe of serials the register list does not hold: one shared fleet read', () => {
  let sim: BusinessKassaSimulator;
  let app: RunningExporter;

  beforeAll(async () => {
    sim = await BusinessKassaSimulator.start({ registers: generatedBkFleet(5) });
    sim.server.delayMs = 200; // long enough for every concurrent probe to find the read in flight
    app = await startExporter(bkConfig(sim, `{ cookie: "${BK_SESSION_COOKIE}" }`));
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  it('20 concurrent probes of unknown serials and 3 /metrics cost one GET /frs; 20 more right after cost none', async () => {
    const before = sim.fleetCalls;
    const unknown = (i: number) => scrape(app, `/probe?source=bk&target=99999${String(i).padStart(3, '0')}`);
    const answers = await Promise.all([...Array.from({ length: 20 }, (_, i) => unknown(i)), scrape(app), scrape(app), scrape(app)]);
    expect(sim.fleetCalls - before).toBe(1);
    for (const s of answers.slice(0, 20)) expect(find(s, 'kkt_up').map((x) => x.value)).toEqual([0]);
    for (const s of answers.slice(20)) expect(find(s, 'kkt_up', { source: 'bk' })).toHaveLength(5);
    for (let i = 20; i < 40; i++) await unknown(i);
    expect(sim.fleetCalls - before).toBe(1);
    expect(app.logs.filter((l) => l.msg === 'register not found' && l.fields.source === 'bk')).toHaveLength(40);
  });

  it('a serial found in that fleet read is answered from it; once it is in the roster, by its own GET /frs/:eip', async () => {
    const fresh = await startExporter(bkConfig(sim, `{ cookie: "${BK_SESSION_COOKIE}" }`));
    try {
      const r = sim.registers[2] as BkRecord;
      const before = sim.fleetCalls;
      const first = await scrape(fresh, `/probe?source=bk&target=${r.sn}`);
      expect(valueOf(first, 'kkt_up', { kkt: r.sn })).toBe(1);
      expect(valueOf(first, 'kkt_mcu_temperature_celsius', { kkt: r.sn })).toBe(r.mcu_temperature);
      expect(find(first, 'kkt_trading', { kkt: r.sn })).toHaveLength(1);
      expect(sim.fleetCalls - before).toBe(1);
      const calls = sim.requests.length;
      expect(valueOf(await scrape(fresh, `/probe?source=bk&target=${r.sn}`), 'kkt_up', { kkt: r.sn })).toBe(1);
      expect(sim.requests.slice(calls).map((q) => q.path)).toEqual([`/v1/frs/${r.eip}`]);
    } finally {
      await fresh.stop();
    }
  });
});
