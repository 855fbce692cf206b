import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BK_SESSION_COOKIE, BusinessKassaSimulator, demoBkFleet, generatedBkFleet, type BkAuth, type BkRecord } from '../../src/simulator/businesskassa.js';
import { scrapeSeries as scrape, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, valueOf, type Series } from '../support/metrics.js';

const bkConfig = (sim: BusinessKassaSimulator, auth: string, extra = '') =>
  `global: { timezone: Europe/Moscow }\nsources:\n  - name: bk\n    type: businesskassa\n    url: "${sim.url}"\n    auth: ${auth}\n${extra}`;

describe('BusinessKassa source against the simulated service (cookie auth, /v1 prefix)', () => {
  let sim: BusinessKassaSimulator;
  let app: RunningExporter;
  let s: Series[];
  const now = Math.floor(Date.now() / 60_000) * 60; // whole minutes: the service sends no seconds

  beforeAll(async () => {
    const registers = [...demoBkFleet(now), ...generatedBkFleet(20, now).slice(5)];
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
