import { BlockList, isIP } from 'node:net';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { CATALOG_LABELS } from '../readings/catalog.js';
import { kktProblem, MAX_LABEL_VALUE_CHARS } from '../readings/reading.js';
import { parseDuration } from './duration.js';
import type { RegisterLabels } from './register-labels.js';
import { tradingHours } from './trading-hours.js';


/** Keys whose values are secrets; each also has a `<key>_file` form. */
export const SECRET_KEYS = ['password', 'bearer_token', 'cookie', 'token'] as const;
/** Maps whose every value is treated as a secret (e.g. custom auth headers). */
export const SECRET_MAPS = ['headers'] as const;

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use Prometheus syntax such as 1s, 500ms or 15m)` });
    return z.NEVER;
  }
  return ms;
});

export const timezone = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  message: 'unknown time zone (use an IANA name such as Europe/Moscow)',
});

export const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}, { message: 'must be an http:// or https:// URL without credentials in it' });

/**
 * Why `path` is not a plain URL path that holds `placeholder` once as a whole segment (the vendor
 * paths a config may set), or undefined: nothing that could hide another call (encoding, `..`, a query).
 */
export function templatePathProblem(path: string, placeholder: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with /';
  if (/[%?#\\\s]|\/\/|\/\.\.?(\/|$)/.test(path)) return 'must be a plain path: no %-encoding, query, fragment, backslash, empty or dot segment';
  if (path.slice(1).split('/').filter((seg) => seg === placeholder).length !== 1) return `must contain ${placeholder} once, as a whole segment`;
  return undefined;
}

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

/** The files a source's `tls` names: each is resolved against the config's folder and checked at load. */
export const TLS_FILE_KEYS = ['ca_file', 'cert_file', 'key_file'] as const;

export const tls = z.strictObject({
  ca_file: z.string().optional(),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
  server_name: z.string().optional(),
  insecure_skip_verify: z.boolean().default(false),
});
export type TlsConfig = z.infer<typeof tls>;

/** Settings every source takes. */
export const sourceCommon = {
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be letters, digits, "_", "." or "-"'),
  timeout: duration.optional(),
  tls: tls.optional(),
  proxy_url: httpUrl.optional(),
  /** For vendor times that carry no offset; default global.timezone, unless the vendor documents another. */
  timezone: timezone.optional(),
  /** Read only through `/probe`, never by `/metrics` (a large fleet scraped through `/sd`). */
  probe_only: z.boolean().default(false),
  /** When its registers trade, in the stores' zone (`timezone`, else global.timezone); absent: always. */
  trading_hours: tradingHours.optional(),
  /** Static labels by register identity (its `kkt`), CSV or YAML, re-read on reload (register-labels.ts). */
  register_labels_file: z.string().min(1).optional(),
};

/**
 * What every source's config has, whatever its vendor. `register_labels` is what loading read from
 * `register_labels_file`, for a source whose registers its vendor lists (those configured one by
 * one have them merged into their `labels`).
 */
export type CommonSourceConfig = { type: string; register_labels?: RegisterLabels } & z.output<z.ZodObject<typeof sourceCommon>>;

/** A static label's value: at most the exporter's bound on any label value, as a vendor's is. */
const staticLabelValue = z.string().max(MAX_LABEL_VALUE_CHARS, `a label value may have at most ${MAX_LABEL_VALUE_CHARS} characters`);

/**
 * A register's static labels. A name the exporter sets itself is refused where the vendors are
 * known, for a source's `registers[].labels` (configSchemaOf) and a registers file's (refusingExporterLabels).
 */
export const staticLabels = z.record(z.string(), staticLabelValue).superRefine((labels, ctx) => {
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME_RE.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `label name "${name}" must match [a-zA-Z_][a-zA-Z0-9_]*` });
  }
});

/**
 * Every label name the exporter sets on some family, given the `kkt_info` labels of every vendor,
 * and the names Prometheus reserves. A register's static label with one of these names would give
 * a series a duplicate label, and Prometheus drops the whole scrape for it.
 */
export function exporterLabels(infoLabels: Iterable<string>): ReadonlySet<string> {
  // `exporter`: the target label prometheus.yml.example gives every series of one exporter process (KktExporterDown).
  return new Set([...CATALOG_LABELS, 'job', 'instance', '__name__', 'quantile', 'exporter', ...infoLabels]);
}

/** Why a static label may not be named `name` (the exporter sets it, or Prometheus reserves it), or undefined. */
function reservedLabelProblem(name: string, reserved: ReadonlySet<string>): string | undefined {
  if (!reserved.has(name) && !name.startsWith('__')) return undefined;
  return `label "${name}" is set by the exporter itself (a duplicate label would make Prometheus drop the whole scrape): rename it`;
}

/** The most registers one `register_labels_file` may name: as many as a source may list. */
export const MAX_LABELLED_REGISTERS = 100_000;
/** The most labels one `register_labels_file` may give a register (its columns after the first). */
export const MAX_FILE_LABELS = 32;

/**
 * A `register_labels_file` as data: each register's identity (its `kkt` label) to its static
 * labels, none named like one in `reserved` (see exporterLabels).
 */
export function registerLabelsSchemaOf(reserved: ReadonlySet<string>) {
  const labels = staticLabels
    .refine((l) => Object.keys(l).length <= MAX_FILE_LABELS, `a register may have at most ${MAX_FILE_LABELS} labels from the file`)
    .superRefine((l, ctx) => {
      for (const name of Object.keys(l)) {
        const message = reservedLabelProblem(name, reserved);
        if (message) ctx.addIssue({ code: 'custom', path: [name], message });
      }
    });
  return z.record(z.string(), labels).superRefine((file, ctx) => {
    const ids = Object.keys(file);
    if (ids.length > MAX_LABELLED_REGISTERS) ctx.addIssue({ code: 'custom', message: `the file names ${ids.length} registers, more than ${MAX_LABELLED_REGISTERS}` });
    for (const id of ids) {
      const message = id === '' ? 'the register id is empty' : kktProblem(id, 'the register id');
      if (message) ctx.addIssue({ code: 'custom', path: [id], message });
    }
  });
}
export type RegisterLabelsSchema = ReturnType<typeof registerLabelsSchemaOf>;

/** Run a check even when other parts failed, so one load reports every problem. */
const ALWAYS = { when: () => true };

/**
 * An issue at each static label of `registers` (registers configured one by one, each with its
 * `labels`, at `path`) that the exporter sets itself. The value may be half-parsed: anything else is
 * passed over.
 */
function refuseReservedLabels(registers: unknown, reserved: ReadonlySet<string>, ctx: z.RefinementCtx, path: ReadonlyArray<string | number>): void {
  if (!Array.isArray(registers)) return;
  registers.forEach((register: unknown, i) => {
    const labels = (register as { labels?: unknown } | null)?.labels;
    if (labels === null || typeof labels !== 'object') return;
    for (const name of Object.keys(labels)) {
      const message = reservedLabelProblem(name, reserved);
      if (message) ctx.addIssue({ code: 'custom', path: [...path, i, 'labels', name], message });
    }
  });
}

/**
 * `schema` of a registers file (a list of registers, or `{registers: [...]}`) that also refuses a
 * static label named like one in `reserved` (see exporterLabels).
 */
export function refusingExporterLabels<S extends z.ZodType>(schema: S, reserved: ReadonlySet<string>): S {
  return schema.superRefine((file, ctx) => {
    if (Array.isArray(file)) refuseReservedLabels(file, reserved, ctx, []);
    else refuseReservedLabels((file as { registers?: unknown } | null)?.registers, reserved, ctx, ['registers']);
  }, ALWAYS);
}


/**
 * The most registers a cloud source may list: every size a vendor states (a total, a page, a list)
 * is checked against it, so a hostile or broken answer cannot make the exporter plan a huge read.
 */
export const maxRegisters = z.number().int().min(1).default(100_000);

/**
 * A refinement for a list of identities (circuits, register ids): an item listed twice would be read
 * twice and give two series with one label set, which Prometheus drops without a word; so a repeat
 * is a config error at the repeat.
 */
export function noRepeats(what: string) {
  return (items: readonly unknown[], ctx: z.RefinementCtx): void => {
    const firstAt = new Map<unknown, number>();
    items.forEach((item, i) => {
      const first = firstAt.get(item);
      if (first === undefined) firstAt.set(item, i);
      else ctx.addIssue({ code: 'custom', path: [i], message: `${what} ${JSON.stringify(item)} is listed twice (first as item ${first}): remove the repeat` });
    });
  };
}

/** A secret: given inline (usually as `${ENV}`) or as `<key>_file`. */
export const secret = (key: string) => z.string({ error: `${key} (or ${key}_file) is required` }).min(1, `${key} is empty`);







export const globalSchema = z.strictObject({
  timezone: timezone.default('Europe/Moscow'),
  scrape_timeout: duration.default(10_000),
});


export type GlobalConfig = z.infer<typeof globalSchema>;

/**
 * The whole config file's schema, for the given source schemas (one per vendor, told apart by
 * `type`) and the label names a register's static labels may not take (see exporterLabels): the
 * vendors are named by the vendor list, not here.
 */
export function configSchemaOf<S extends z.ZodType<{ name: string; type: string }>>(sourceSchema: S, reservedLabels: ReadonlySet<string>) {
  return z
    .strictObject({
      // prefault: an absent `global` is parsed as {}, so its defaults are written once, above.
      global: globalSchema.prefault({}),
      sources: z.array(sourceSchema).default([]),
    })
    .superRefine((cfg, ctx) => {
      const seen = new Set<string>();
      cfg.sources.forEach((s, i) => {
        if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
        seen.add(s.name);
      });
    })
    .superRefine((cfg, ctx) => {
      const sources: unknown = (cfg as { sources?: unknown } | null)?.sources;
      if (!Array.isArray(sources)) return;
      sources.forEach((s, i) => refuseReservedLabels((s as { registers?: unknown } | null)?.registers, reservedLabels, ctx, ['sources', i, 'registers']));
    }, ALWAYS);
}
