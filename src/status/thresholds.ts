import { fileURLToPath } from 'node:url';
import { parse, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { readTextFile, whyUnreadable } from '../config/load.js';
import { FN_WARNING_FLAGS, type FnWarningFlag } from '../readings/catalog.js';

/**
 * The alert thresholds (examples/alerts/thresholds.yml, which also generates the alert rules), as
 * far as the landing page needs them to say what is wrong with a register: one source of truth for
 * the page and the alerts.
 */
export const DEFAULT_THRESHOLDS_FILE = fileURLToPath(new URL('../../examples/alerts/thresholds.yml', import.meta.url));

const count = z.number().nonnegative();
const severity = z.enum(['critical', 'warning']);

const thresholdsSchema = z.object({
  runbook_base_url: z.string().url(),
  unsent_oldest_warning_days: count,
  unsent_oldest_critical_days: count,
  fn_expiry_warning_days: count,
  fn_expiry_critical_days: count,
  fn_usage_warning_percent: count,
  fn_usage_critical_percent: count,
  fn_phase_not_paged: z.array(z.number().int()),
  fn_flag_severity: z.record(z.enum(Object.keys(FN_WARNING_FLAGS) as [FnWarningFlag, ...FnWarningFlag[]]), severity),
  shift_warning_hours: count,
  shift_expired_hours: count,
  stale_warning_hours: count,
  stale_critical_hours: count,
  mcu_temperature_celsius: z.number(),
});

export type Thresholds = z.infer<typeof thresholdsSchema>;

/** How large a thresholds file may be. */
const THRESHOLDS_FILE_LIMIT = { bytes: 1024 * 1024, text: '1 MiB' };

/** Reads and checks a thresholds file; throws an Error naming the file and what is at fault. */
export async function loadThresholds(file: string): Promise<Thresholds> {
  return (await loadThresholdsDocument(file)).thresholds;
}

/**
 * The thresholds file as parsed (every key, for the rule generator) and as checked (what the landing
 * page needs); throws an Error naming the file and what is at fault.
 */
export async function loadThresholdsDocument(file: string): Promise<{ document: unknown; thresholds: Thresholds }> {
  let text: string;
  try {
    text = await readTextFile(file, THRESHOLDS_FILE_LIMIT);
  } catch (err) {
    throw new Error(`${file}: cannot read the thresholds file: ${whyUnreadable(err)}`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    // One line, file:line:col: the yaml library's message also quotes the lines around the error.
    const at = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    const where = at ? `${file}:${at.line}:${at.col}` : file;
    throw new Error(`${where}: not YAML: ${(err as Error).message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const parsed = thresholdsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`);
  }
  return { document: value, thresholds: parsed.data };
}
