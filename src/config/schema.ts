import { BlockList, isIP } from 'node:net';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { EXPORTER_LABELS } from '../metrics/definitions.js';
import { parseDuration } from './duration.js';

/** The UKM 5 monitoring endpoints in the order they are read: what matters most comes first. */
export const UKM_ENDPOINTS = ['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight'] as const;
export type UkmEndpoint = (typeof UKM_ENDPOINTS)[number];

/** Keys whose values are secrets; each also has a `<key>_file` form. */
export const SECRET_KEYS = ['password', 'bearer_token', 'cookie', 'token'] as const;
/** Maps whose every value is treated as a secret (e.g. custom auth headers). */
export const SECRET_MAPS = ['headers'] as const;

export const MIN_UKM_INTERVAL_MS = 1000;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use Prometheus syntax such as 1s, 500ms or 15m)` });
    return z.NEVER;
  }
  return ms;
});

const timezone = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  message: 'unknown time zone (use an IANA name such as Europe/Moscow)',
});

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}, { message: 'must be an http:// or https:// URL without credentials in it' });

export const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  message: 'must be an IP network in CIDR notation, e.g. 10.0.0.0/8',
});

export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = text.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const net = parseCidr(c);
    if (net) list.addSubnet(net.address, net.prefix, net.family);
  }
  return list;
}

const tls = z.strictObject({
  ca_file: z.string().optional(),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
  server_name: z.string().optional(),
  insecure_skip_verify: z.boolean().default(false),
});
export type TlsConfig = z.infer<typeof tls>;

/** Settings every source takes. */
const sourceCommon = {
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be letters, digits, "_", "." or "-"'),
  timeout: duration.optional(),
  tls: tls.optional(),
  proxy_url: httpUrl.optional(),
  /** For vendor times that carry no offset; default global.timezone (ATOL: UTC, as it documents). */
  timezone: timezone.optional(),
};

const staticLabels = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME_RE.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `label name "${name}" must match [a-zA-Z_][a-zA-Z0-9_]*` });
    else if (EXPORTER_LABELS.has(name) || name.startsWith('__')) {
      ctx.addIssue({ code: 'custom', path: [name], message: `label "${name}" is set by the exporter itself (a duplicate label would make Prometheus drop the whole scrape): rename it` });
    }
  }
});

export const ukmRegister = z.strictObject({
  name: z.string().min(1),
  url: httpUrl,
  labels: staticLabels.default({}),
  /** The register's own zone for its offset-less times, over the source's: a chain spans time zones. */
  timezone: timezone.optional(),
});
export type UkmRegisterConfig = z.infer<typeof ukmRegister>;

/** `registers_file` holds either a list of registers or `{registers: [...]}`. */
export const ukmRegistersFile = z.union([z.array(ukmRegister), z.strictObject({ registers: z.array(ukmRegister) })]);

const ukmSource = z.strictObject({
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

/**
 * The most registers a cloud source may list: every size a vendor states (a total, a page, a list)
 * is checked against it, so a hostile or broken answer cannot make the exporter plan a huge read.
 */
const maxRegisters = z.number().int().min(1).default(100_000);

/** A secret: given inline (usually as `${ENV}`) or as `<key>_file`. */
const secret = (key: string) => z.string({ error: `${key} (or ${key}_file) is required` }).min(1, `${key} is empty`);

const atolSource = z.strictObject({
  ...sourceCommon,
  type: z.literal('atol'),
  url: httpUrl.default('https://online.atol.ru'),
  login: z.string().min(1),
  password: secret('password'),
  page_size: z.number().int().min(1).max(100).default(100),
  /** Pages read at once after the first; the first tells how many there are. */
  page_concurrency: z.number().int().min(1).max(32).default(16),
  max_registers: maxRegisters,
});
export type AtolSourceConfig = z.infer<typeof atolSource>;

/** Static credentials for services behind a session cookie, a token, basic auth or custom headers. */
const staticAuth = z
  .strictObject({
    cookie: z.string().min(1).optional(),
    bearer_token: z.string().min(1).optional(),
    basic_auth: z.strictObject({ username: z.string(), password: secret('password') }).optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .refine((a) => [a.cookie, a.bearer_token, a.basic_auth].filter((x) => x !== undefined).length <= 1, {
    message: 'use one of cookie, bearer_token or basic_auth (headers may be added to any)',
  });
export type StaticAuthConfig = z.infer<typeof staticAuth>;

const businessKassaSource = z.strictObject({
  ...sourceCommon,
  type: z.literal('businesskassa'),
  /** Base URL with any path prefix; the hosted service answers under /v1. */
  url: httpUrl,
  auth: staticAuth.default({}),
  /** Fiscal circuits (by INN) whose register activity to expose; one extra call each per scrape. */
  circuits: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
  max_registers: maxRegisters,
});
export type BusinessKassaSourceConfig = z.infer<typeof businessKassaSource>;

const kassa24Source = z.strictObject({
  ...sourceCommon,
  type: z.literal('kassa24'),
  url: httpUrl.default('https://fiscal2.kassa24.kz'),
  login: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1)),
  password: secret('password'),
  /** Registers (IdKkm) to watch; default: every register GET /kkms returns. */
  kkms: z.array(z.number().int().positive()).optional(),
  /** Registers read at once. */
  concurrency: z.number().int().min(1).max(64).default(8),
  max_registers: maxRegisters,
  /** An X-report is a fiscal document sent to the OFD: taken rarely, cached in between. */
  xreport: z
    .strictObject({
      enabled: z.boolean().default(true),
      min_interval: duration.default(15 * 60_000).refine((ms) => ms >= 60_000, { message: 'must be at least 1m: every X-report is a fiscal document' }),
      method: z.enum(['POST', 'GET']).default('POST'),
      path: z.string().superRefine((path, ctx) => {
        const problem = unsafeXReportPath(path);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }).default('/shifts/{shift}/x'),
    })
    .default({ enabled: true, min_interval: 15 * 60_000, method: 'POST', path: '/shifts/{shift}/x' }),
});
export type Kassa24SourceConfig = z.infer<typeof kassa24Source>;

/** Path segments of the calls that close or open a shift (`POST /shifts/:id/z`, `POST /shifts`). */
const SHIFT_WRITE_SEGMENTS = new Set(['z', 'open', 'close', 'zreport', 'z-report']);

/**
 * Why an `xreport.path` could reach something other than a report of one shift, or undefined. It
 * must be a plain path below `/shifts/{shift}/`, with no segment naming a Z-report or a shift opening
 * or closing, and nothing that could hide one (encoding, `..`, a query).
 */
export function unsafeXReportPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with /';
  if (/[%?#\\\s]|\/\/|\/\.\.?(\/|$)/.test(path)) return 'must be a plain path: no %-encoding, query, fragment, backslash, empty or dot segment';
  const segments = path.slice(1).split('/');
  const shift = segments.indexOf('{shift}');
  if (shift < 0 || segments.lastIndexOf('{shift}') !== shift) return 'must contain {shift} once, as a whole segment';
  if (shift === segments.length - 1) return 'must name a report below the shift (e.g. /shifts/{shift}/x), not the shift itself';
  const write = segments.find((seg) => SHIFT_WRITE_SEGMENTS.has(seg.toLowerCase()));
  if (write) return `must not reach "/${write}": it could close or open a shift (only an X-report may be taken)`;
  const shifts = segments.findIndex((seg) => seg.toLowerCase() === 'shifts');
  if (shifts >= 0 && segments[shifts + 1] !== '{shift}') return '"/shifts" must be followed by /{shift} (POST /shifts opens a shift)';
  return undefined;
}

export const SOURCE_TYPES = ['ukm', 'atol', 'businesskassa', 'kassa24'] as const;

export const sourceSchema = z.discriminatedUnion('type', [ukmSource, atolSource, businessKassaSource, kassa24Source], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `unknown source type; expected one of: ${SOURCE_TYPES.join(', ')}` : undefined,
});
export type SourceConfig = z.infer<typeof sourceSchema>;

const globalSchema = z.strictObject({
  timezone: timezone.default('Europe/Moscow'),
  scrape_timeout: duration.default(10_000),
});

export const configSchema = z
  .strictObject({
    global: globalSchema.default({ timezone: 'Europe/Moscow', scrape_timeout: 10_000 }),
    sources: z.array(sourceSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.sources.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
      seen.add(s.name);
    });
  });
export type Config = z.infer<typeof configSchema>;
