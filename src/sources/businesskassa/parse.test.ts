import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RegisterReading } from '../../readings/reading.js';
import { authHeaders } from './client.js';
import { bkCircuitSchema, bkFleetSchema, parseBkRegister, readBkError } from './parse.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/businesskassa/${name}`, import.meta.url), 'utf8'));
const EXAMPLE = (bkFleetSchema.parse(fixture('frs-example.json'))[0]) as Record<string, unknown> & { fs: Record<string, unknown> };
const values = (r: RegisterReading) => Object.fromEntries(r.samples.filter((s) => !s.labels).map((s) => [s.metric, s.value]));
const flags = (r: RegisterReading) => Object.fromEntries(r.samples.filter((s) => s.metric === 'kkt_fn_warning_flag').map((s) => [s.labels?.flag, s.value]));

function parse(raw: unknown, zone = 'Europe/Moscow') {
  const result = parseBkRegister(raw, zone, 'frs');
  if (!result.ok) throw new Error(result.error);
  return result.reading;
}

describe('BusinessKassa payloads from the document', () => {
  it('maps the example register of GET /frs', () => {
    const r = parse(EXAMPLE);
    expect(r.kkt).toBe('2000004581');
    expect(r.info).toEqual({
      serial: '2000004581',
      eip: '10.55.15.19:10515',
      rnm: '0008287390020208',
      fn_serial: '7381440800357213',
      inn: '770900467024',
      fn_mode: '4',
      tax_system: '2',
      agent: '0',
    });
    expect(values(r)).toEqual({
      kkt_unsent_docs: 0,
      kkt_fn_phase: 3,
      kkt_fn_warning_flags: 0,
      kkt_shift_open: 1,
      kkt_mcu_temperature_celsius: 45,
      // 18.09.2025 14:02 has no zone: read in Moscow time (UTC+3).
      kkt_status_timestamp_seconds: Date.parse('2025-09-18T11:02:00Z') / 1000,
    });
  });

  it('splits fs.flags into one kkt_fn_warning_flag series per flag, all eight whenever flags are read', () => {
    expect(flags(parse(EXAMPLE))).toEqual({
      urgent_replacement: 0, resource_exhausted: 0, memory_full: 0, ofd_timeout: 0,
      format_error: 0, setup_required: 0, ofd_cancelled: 0, critical_error: 0,
    });
    expect(flags(parse({ ...EXAMPLE, fs: { ...EXAMPLE.fs, flags: 0x80 | 0x40 | 0x02 } }))).toEqual({
      urgent_replacement: 0, resource_exhausted: 1, memory_full: 0, ofd_timeout: 0,
      format_error: 0, setup_required: 0, ofd_cancelled: 1, critical_error: 1,
    });
    expect(flags(parse({ ...EXAMPLE, fs: { ...EXAMPLE.fs, flags: 0x01 | 0x04 | 0x08 | 0x10 | 0x20 } }))).toMatchObject({
      urgent_replacement: 1, memory_full: 1, ofd_timeout: 1, format_error: 1, setup_required: 1, critical_error: 0,
    });
    const { flags: _f, ...noFlags } = EXAMPLE.fs;
    expect(flags(parse({ ...EXAMPLE, fs: noFlags }))).toEqual({});
  });

  it('"Invalid date" and fd_first 0 mean no oldest unsent document: no series, not a zero', () => {
    const v = values(parse(EXAMPLE));
    expect(v).not.toHaveProperty('kkt_unsent_oldest_timestamp_seconds');
    expect(v).not.toHaveProperty('kkt_unsent_oldest_document_number');
  });

  it('reads a real fd_first_timestamp in the configured zone', () => {
    const r = parse({ ...EXAMPLE, fs: { ...EXAMPLE.fs, ofd: { number: 23, fd_first: 10412, fd_first_timestamp: '20.11.2026 09:30' } } }, 'Asia/Almaty');
    expect(values(r)).toMatchObject({
      kkt_unsent_docs: 23,
      kkt_unsent_oldest_document_number: 10412,
      kkt_unsent_oldest_timestamp_seconds: Date.parse('2026-11-20T04:30:00Z') / 1000,
    });
  });

  it('keeps a register without its fs block, with what it did report', () => {
    const { fs: _fs, ...noFs } = EXAMPLE;
    const r = parse(noFs);
    expect(r.up).toBe(true);
    expect(values(r)).toEqual({ kkt_mcu_temperature_celsius: 45, kkt_status_timestamp_seconds: Date.parse('2025-09-18T11:02:00Z') / 1000 });
    expect(r.info).toEqual({ serial: '2000004581', eip: '10.55.15.19:10515' });
  });

  it('takes numbers sent as strings, and ignores unknown fields', () => {
    const r = parse({ ...EXAMPLE, sn: 2000004581, mcu_temperature: '45.5', firmware: { v: 2 }, fs: { ...EXAMPLE.fs, phase: '7', flags: '2', shift_is_open: 'false', ofd: { number: '3' } } });
    expect(r.kkt).toBe('2000004581');
    expect(values(r)).toMatchObject({ kkt_mcu_temperature_celsius: 45.5, kkt_fn_phase: 7, kkt_fn_warning_flags: 2, kkt_shift_open: 0, kkt_unsent_docs: 3 });
  });

  it('reports a malformed record with its serial number', () => {
    expect(parseBkRegister({ ...EXAMPLE, fs: { ...EXAMPLE.fs, phase: 'fiscal' } }, 'UTC', 'frs')).toMatchObject({ ok: false, kkt: '2000004581', error: expect.stringMatching(/fs\.phase/) });
    expect(parseBkRegister({ ...EXAMPLE, timestamp: '31.31.2025 99:99' }, 'UTC', 'frs')).toMatchObject({ ok: false, kkt: '2000004581', error: expect.stringMatching(/timestamp/) });
    expect(parseBkRegister({ ...EXAMPLE, fs: [] }, 'UTC', 'frs')).toMatchObject({ ok: false });
    expect(parseBkRegister({ eip: '10.0.0.1:1' }, 'UTC', 'frs')).toMatchObject({ ok: false, kkt: undefined });
  });

  it('reads the fiscal circuit answer', () => {
    const c = bkCircuitSchema.parse(fixture('fcircuit-example.json'));
    expect(c.id).toBe('5346');
    expect(c.frs).toEqual([
      { eip: '10.55.15.19:10515', type: 'pkfa12', is_active: true },
      { eip: '10.55.15.20:10515', type: 'terminalfa', is_active: false },
    ]);
  });

  it('takes the message of an error body, whatever its shape', () => {
    expect(readBkError(401, { error: 'session expired' })).toEqual({ message: 'session expired' });
    expect(readBkError(500, 'boom')).toEqual({ message: 'boom' });
    expect(readBkError(502, null)).toEqual({});
  });
});

describe('authHeaders', () => {
  it('sends a cookie, a bearer token, basic auth, and extra headers', () => {
    expect(authHeaders({ cookie: 'bkapisessionid=abc' })).toEqual({ cookie: 'bkapisessionid=abc' });
    expect(authHeaders({ bearer_token: 't' })).toEqual({ authorization: 'Bearer t' });
    expect(authHeaders({ basic_auth: { username: 'u', password: 'p' } })).toEqual({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
    expect(authHeaders({ headers: { 'X-Api-Key': 'k' }, cookie: 'c=1' })).toEqual({ 'X-Api-Key': 'k', cookie: 'c=1' });
  });
});
