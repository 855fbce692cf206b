import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readingOf, unreadReading, type RegisterReading } from '../readings/reading.js';
import { problemsOf } from './problems.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholds, type Thresholds } from './thresholds.js';

const NOW = 1_800_000_000;
const DAY = 86_400;
let t: Thresholds;

beforeAll(async () => {
  t = await loadThresholds(DEFAULT_THRESHOLDS_FILE);
});

const texts = (r: RegisterReading, th = t) => problemsOf(r, NOW, th).map((p) => `${p.severity} ${p.kind}: ${p.text} [${p.alert}]`);
const reading = (values: Parameters<typeof readingOf>[3]) => readingOf('r1', 'list', {}, values);

describe('problems of a reading, by the alert thresholds (examples/alerts/thresholds.yml)', () => {
  it('a healthy register has none', () => {
    expect(texts(reading({ kkt_paper_present: 1, kkt_unsent_docs: 0, kkt_fn_usage_percent: 10, kkt_fn_expiry_timestamp_seconds: NOW + 300 * DAY, kkt_fn_phase: 3 }))).toEqual([]);
  });

  it('a register not read says why, and nothing else', () => {
    expect(texts(unreadReading('r1', 'paper', 'connection refused'))).toEqual(['warning down: not read: connection refused [KktRegisterDown]']);
  });

  it('a register not read outside its trading hours is no problem (its store is closed), inside them it is', () => {
    const closed = unreadReading('r1', 'paper', 'connection refused');
    closed.samples.push({ metric: 'kkt_trading', value: 0 });
    expect(texts(closed)).toEqual([]);
    const open = unreadReading('r1', 'paper', 'connection refused');
    open.samples.push({ metric: 'kkt_trading', value: 1 });
    expect(texts(open)).toEqual(['warning down: not read: connection refused [KktRegisterDown]']);
  });

  it('out of paper and blocked are critical', () => {
    expect(texts(reading({ kkt_paper_present: 0, kkt_register_blocked: 1 }))).toEqual([
      'critical paper_out: out of paper [KktPaperOut]',
      'critical blocked: blocked by the vendor: it cannot sell [KktRegisterBlocked]',
    ]);
  });

  it('unsent documents: the count, the age of the oldest, and the severity of that age', () => {
    expect(texts(reading({ kkt_unsent_docs: 17 }))).toEqual(['warning unsent: 17 documents unsent to the OFD [KktUnsentDocumentsPending]']);
    expect(texts(reading({ kkt_unsent_docs: 1510, kkt_unsent_oldest_timestamp_seconds: NOW - 5 * DAY }))).toEqual([
      'warning unsent: 1,510 documents unsent to the OFD, oldest 5 days old [KktUnsentDocumentsOld]',
    ]);
    expect(texts(reading({ kkt_unsent_docs: 3, kkt_unsent_oldest_timestamp_seconds: NOW - 21 * DAY }))[0]).toMatch(/^critical unsent: .*oldest 21 days old \[KktUnsentDocumentsNearBlock\]$/);
  });

  it('FN expiry, fill, phase and flags, with the flags\' own severities', () => {
    expect(texts(reading({ kkt_fn_expiry_timestamp_seconds: NOW + 10.5 * DAY, kkt_fn_usage_percent: 95.1 }))).toEqual([
      'warning fn_expiry: FN expires in 10 days [KktFnExpiringSoon]',
      'critical fn_full: FN 95.1 % full [KktFnFull]',
    ]);
    expect(texts(reading({ kkt_fn_expiry_timestamp_seconds: NOW + 3 * DAY, kkt_fn_usage_percent: 85 }))).toEqual([
      'critical fn_expiry: FN expires in 3 days [KktFnExpiringCritical]',
      'warning fn_full: FN 85 % full [KktFnAlmostFull]',
    ]);
    expect(texts(reading({ kkt_fn_phase: 7 }))).toEqual(['critical fn_phase: FN not in fiscal mode (phase 7) [KktFnNotFiscal]']);
    expect(texts(reading({ kkt_fn_phase: 1 }))).toEqual([]);
    const flagged = reading({});
    flagged.samples.push(
      { metric: 'kkt_fn_warning_flag', value: 1, labels: { flag: 'urgent_replacement' } },
      { metric: 'kkt_fn_warning_flag', value: 1, labels: { flag: 'ofd_timeout' } },
      { metric: 'kkt_fn_warning_flag', value: 0, labels: { flag: 'memory_full' } },
    );
    expect(texts(flagged)).toEqual([
      'critical fn_flag: FN flag: urgent replacement [KktFnFlagUrgentReplacement]',
      'warning fn_flag: FN flag: ofd timeout [KktFnFlagOfdTimeout]',
    ]);
  });

  it('a shift open 23.5 h warns, past 24 h it has expired', () => {
    expect(texts(reading({ kkt_shift_open: 1, kkt_shift_opened_timestamp_seconds: NOW - 23.5 * 3600 }))).toEqual(['warning shift: shift open 23.5 h [KktShiftOpenLong]']);
    expect(texts(reading({ kkt_shift_open: 1, kkt_shift_opened_timestamp_seconds: NOW - 27 * 3600 }))).toEqual(['critical shift: shift expired: open 27.0 h [KktShiftExpired]']);
    expect(texts(reading({ kkt_shift_open: 0, kkt_shift_opened_timestamp_seconds: NOW - 27 * 3600 }))).toEqual([]);
  });

  it('OFD link, stale data, a hot microcontroller, the Vision link and a partly read register', () => {
    const r = reading({ kkt_ofd_network_error_code: 2, kkt_status_timestamp_seconds: NOW - 2 * 3600, kkt_mcu_temperature_celsius: 78, kkt_vision_connected: 0 });
    r.error = 'vision: HTTP 500';
    expect(texts(r)).toEqual([
      'warning incomplete: partly read: vision: HTTP 500 [KktRegisterDown]',
      'warning ofd_link: OFD link error 2 [KktOfdNetworkError]',
      'warning stale: vendor data 2.0 h old [KktDataStale]',
      'warning mcu_hot: microcontroller at 78 °C [KktMcuHot]',
      'warning vision: SuperMag Vision link down [KktVisionLinkDown]',
    ]);
  });

  it('follows the thresholds file: moving a threshold moves the judgement', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-thresholds-'));
    const file = join(dir, 'thresholds.yml');
    const { readFile } = await import('node:fs/promises');
    await writeFile(file, (await readFile(DEFAULT_THRESHOLDS_FILE, 'utf8')).replace(/^fn_expiry_warning_days: \d+/m, 'fn_expiry_warning_days: 5'));
    const moved = await loadThresholds(file);
    expect(moved.fn_expiry_warning_days).toBe(5);
    const tenDays = reading({ kkt_fn_expiry_timestamp_seconds: NOW + 10 * DAY });
    expect(texts(tenDays)).toHaveLength(1);
    expect(texts(tenDays, moved)).toEqual([]);
  });

  it('refuses a thresholds file that lacks a threshold, naming the file and the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-thresholds-'));
    const file = join(dir, 'thresholds.yml');
    await writeFile(file, 'runbook_base_url: https://example.com/alerts.md\n');
    await expect(loadThresholds(file)).rejects.toThrow(`${file}: unsent_oldest_warning_days:`);
    await expect(loadThresholds(join(dir, 'missing.yml'))).rejects.toThrow(/cannot read the thresholds file: ENOENT/);
  });
});
