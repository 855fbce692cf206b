import { FN_WARNING_FLAGS, type FnWarningFlag, type RegisterMetric } from '../readings/catalog.js';
import type { RegisterReading } from '../readings/reading.js';
import type { Thresholds } from './thresholds.js';

export type Severity = 'critical' | 'warning';

/** Kinds of problem, in the order the page lists them, with the words for a person. */
export const PROBLEM_KINDS = {
  down: 'not read',
  incomplete: 'read incomplete',
  paper_out: 'out of paper',
  blocked: 'blocked',
  unsent: 'unsent documents',
  fn_expiry: 'FN expiring',
  fn_full: 'FN full',
  fn_phase: 'FN not in fiscal mode',
  fn_flag: 'FN warning flags',
  shift: 'shift too long',
  ofd_link: 'OFD link error',
  stale: 'vendor data old',
  mcu_hot: 'microcontroller hot',
  vision: 'Vision link down',
} as const;
export type ProblemKind = keyof typeof PROBLEM_KINDS;

/** What is wrong with a register now, in words, and the alert whose runbook says what to do. */
export interface Problem {
  kind: ProblemKind;
  severity: Severity;
  text: string;
  alert: string;
}

/** The register was outside its trading hours when it was read (kkt_trading 0). */
export function outsideTradingHours(reading: RegisterReading): boolean {
  return reading.samples.some((s) => s.metric === 'kkt_trading' && s.value === 0);
}

/**
 * A register not read has this one problem, unless its store is closed (outside its trading
 * hours: KktRegisterDown is silent then too); the rest needs a reading.
 */
export function notReadProblems(reading: RegisterReading): Problem[] {
  if (reading.up || outsideTradingHours(reading)) return [];
  return [{ kind: 'down', severity: 'warning', text: `not read: ${reading.error ?? 'no answer'}`, alert: 'KktRegisterDown' }];
}

const DAY = 86_400;
const HOUR = 3_600;

/** 0.4 -> "less than a day", 1 -> "1 day", 5.7 -> "5 days". */
function daysText(days: number): string {
  if (days < 1) return 'less than a day';
  const n = Math.floor(days);
  return `${n} day${n === 1 ? '' : 's'}`;
}

const flagWords = (flag: string): string => flag.replace(/_/g, ' ');

/**
 * The problems of one reading at `nowSeconds` (Unix time), by the alert rules' thresholds. The page
 * shows the state now; an alert fires only after its `for:` (see docs/alerts.md).
 */
export function problemsOf(reading: RegisterReading, nowSeconds: number, t: Thresholds): Problem[] {
  if (!reading.up) return notReadProblems(reading);
  const values = new Map<RegisterMetric, number>();
  const flags: FnWarningFlag[] = [];
  for (const s of reading.samples) {
    if (s.metric === 'kkt_fn_warning_flag') {
      if (s.value === 1 && s.labels?.flag && s.labels.flag in FN_WARNING_FLAGS) flags.push(s.labels.flag as FnWarningFlag);
    } else if (!s.labels) values.set(s.metric, s.value);
  }
  const problems: Problem[] = [];
  const add = (kind: ProblemKind, severity: Severity, text: string, alert: string): void => void problems.push({ kind, severity, text, alert });
  const v = (m: RegisterMetric): number | undefined => values.get(m);

  if (reading.error) add('incomplete', 'warning', `partly read: ${reading.error}`, 'KktRegisterDown');
  if (v('kkt_paper_present') === 0) add('paper_out', 'critical', 'out of paper', 'KktPaperOut');
  if (v('kkt_register_blocked') === 1) add('blocked', 'critical', 'blocked by the vendor: it cannot sell', 'KktRegisterBlocked');

  const unsent = v('kkt_unsent_docs');
  if (unsent !== undefined && unsent > 0) {
    const oldest = v('kkt_unsent_oldest_timestamp_seconds');
    const ageDays = oldest === undefined ? undefined : (nowSeconds - oldest) / DAY;
    const text = `${unsent.toLocaleString('en')} document${unsent === 1 ? '' : 's'} unsent to the OFD` + (ageDays === undefined ? '' : `, oldest ${daysText(ageDays)} old`);
    if (ageDays !== undefined && ageDays > t.unsent_oldest_critical_days) add('unsent', 'critical', text, 'KktUnsentDocumentsNearBlock');
    else if (ageDays !== undefined && ageDays > t.unsent_oldest_warning_days) add('unsent', 'warning', text, 'KktUnsentDocumentsOld');
    else add('unsent', 'warning', text, 'KktUnsentDocumentsPending');
  }

  const expiry = v('kkt_fn_expiry_timestamp_seconds');
  if (expiry !== undefined) {
    const left = (expiry - nowSeconds) / DAY;
    const text = left <= 0 ? 'FN expired' : `FN expires in ${daysText(left)}`;
    if (left < t.fn_expiry_critical_days) add('fn_expiry', 'critical', text, 'KktFnExpiringCritical');
    else if (left < t.fn_expiry_warning_days) add('fn_expiry', 'warning', text, 'KktFnExpiringSoon');
  }
  const usage = v('kkt_fn_usage_percent');
  if (usage !== undefined && usage >= t.fn_usage_warning_percent) {
    const critical = usage >= t.fn_usage_critical_percent;
    add('fn_full', critical ? 'critical' : 'warning', `FN ${usage} % full`, critical ? 'KktFnFull' : 'KktFnAlmostFull');
  }
  const phase = v('kkt_fn_phase');
  if (phase !== undefined && phase !== 3 && !t.fn_phase_not_paged.includes(phase)) add('fn_phase', 'critical', `FN not in fiscal mode (phase ${phase})`, 'KktFnNotFiscal');
  for (const flag of flags) {
    const alert = `KktFnFlag${flag.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`;
    add('fn_flag', t.fn_flag_severity[flag] ?? 'warning', `FN flag: ${flagWords(flag)}`, alert);
  }

  const opened = v('kkt_shift_opened_timestamp_seconds');
  if (v('kkt_shift_open') === 1 && opened !== undefined) {
    const hours = (nowSeconds - opened) / HOUR;
    if (hours > t.shift_expired_hours) add('shift', 'critical', `shift expired: open ${hours.toFixed(1)} h`, 'KktShiftExpired');
    else if (hours > t.shift_warning_hours) add('shift', 'warning', `shift open ${hours.toFixed(1)} h`, 'KktShiftOpenLong');
  }
  const ofd = v('kkt_ofd_network_error_code');
  if (ofd !== undefined && ofd !== 0) add('ofd_link', 'warning', `OFD link error ${ofd}`, 'KktOfdNetworkError');
  const status = v('kkt_status_timestamp_seconds');
  if (status !== undefined) {
    const hours = (nowSeconds - status) / HOUR;
    if (hours > t.stale_critical_hours) add('stale', 'critical', `vendor data ${hours.toFixed(0)} h old`, 'KktDataStaleCritical');
    else if (hours > t.stale_warning_hours) add('stale', 'warning', `vendor data ${hours.toFixed(1)} h old`, 'KktDataStale');
  }
  const mcu = v('kkt_mcu_temperature_celsius');
  if (mcu !== undefined && mcu > t.mcu_temperature_celsius) add('mcu_hot', 'warning', `microcontroller at ${mcu} °C`, 'KktMcuHot');
  if (v('kkt_vision_connected') === 0) add('vision', 'warning', 'SuperMag Vision link down', 'KktVisionLinkDown');
  return problems;
}
