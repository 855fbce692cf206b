import { z } from 'zod';
import { cidr, duration, httpUrl, sourceCommon, staticLabels, timezone } from '../../config/schema.js';
import { tradingHours } from '../../config/trading-hours.js';
import { MAX_KKT_CHARS, MAX_LABEL_VALUE_CHARS } from '../../readings/reading.js';

/** The UKM 5 monitoring endpoints in the order they are read: what matters most comes first. */
export const UKM_ENDPOINTS = ['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight'] as const;
export type UkmEndpoint = (typeof UKM_ENDPOINTS)[number];

export const MIN_UKM_INTERVAL_MS = 1000;

export const ukmRegister = z.strictObject({
  /** The register's `kkt` label, bounded as every vendor's register id is. */
  name: z.string().min(1).max(MAX_KKT_CHARS, `a register name may have at most ${MAX_KKT_CHARS} characters`),
  url: httpUrl.max(MAX_LABEL_VALUE_CHARS, `the URL may have at most ${MAX_LABEL_VALUE_CHARS} characters (it is a kkt_info label)`),
  labels: staticLabels.default({}),
  /** The register's own zone for its offset-less times, over the source's: a chain spans time zones. */
  timezone: timezone.optional(),
  /** The register's own hours, over the source's, in its own zone. */
  trading_hours: tradingHours.optional(),
});
export type UkmRegisterConfig = z.infer<typeof ukmRegister>;

/** `registers_file` holds either a list of registers or `{registers: [...]}`. */
export const ukmRegistersFile = z.union([z.array(ukmRegister), z.strictObject({ registers: z.array(ukmRegister) })]);

export const ukmSource = z.strictObject({
  ...sourceCommon,
  type: z.literal('ukm'),
  /** Which endpoints to read; they are always read in UKM_ENDPOINTS' order, whatever the list's. */
  endpoints: z
    .array(z.enum(UKM_ENDPOINTS))
    .min(1)
    .default([...UKM_ENDPOINTS])
    .transform((chosen) => UKM_ENDPOINTS.filter((e) => chosen.includes(e))),
  min_interval: duration.default(MIN_UKM_INTERVAL_MS).refine((ms) => ms >= MIN_UKM_INTERVAL_MS, {
    message: 'must be at least 1s: a UKM register accepts at most one request per second',
  }),
  request_timeout: duration.default(3000),
  allowed_targets: z.array(cidr).default([]),
  registers: z.array(ukmRegister).default([]),
  registers_file: z.string().optional(),
});
export type UkmSourceConfig = z.infer<typeof ukmSource>;
