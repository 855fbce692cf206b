import { z } from 'zod';
import { configSchemaOf, exporterLabels, refusingExporterLabels, registerLabelsSchemaOf } from '../config/schema.js';
import { atolVendor } from './atol/vendor.js';
import { businessKassaVendor } from './businesskassa/vendor.js';
import { kassa24Vendor } from './kassa24/vendor.js';
import { ukmVendor } from './ukm/vendor.js';
import type { AnyVendor } from './vendor.js';

/**
 * Every vendor the exporter reads. A new vendor is a folder under sources/, one entry here, and its
 * part of the simulated chain (src/simulator), which labels.test.ts reads to check what it emits.
 */
const LISTED = [ukmVendor, atolVendor, businessKassaVendor, kassa24Vendor] as const;

/** The label names a register's static labels may not take: those of every vendor's kkt_info among them. */
const EXPORTER_LABELS = exporterLabels(LISTED.flatMap((v) => Object.keys(v.infoLabels)));

/** A vendor whose registers file, if it has one, refuses static labels the exporter sets (as the config file does). */
function refusingLabels<V extends AnyVendor>(vendor: V): V {
  return vendor.registersFile ? { ...vendor, registersFile: refusingExporterLabels(vendor.registersFile, EXPORTER_LABELS) } : vendor;
}

export const VENDORS = LISTED.map(refusingLabels);

export type SourceConfig = z.infer<(typeof LISTED)[number]['configSchema']>;
export const SOURCE_TYPES = VENDORS.map((v) => v.type);

export function vendorOf(type: string): AnyVendor {
  const vendor = VENDORS.find((v) => v.type === type);
  if (!vendor) throw new Error(`unknown source type "${type}"`);
  return vendor;
}

const sourceSchema = z.discriminatedUnion(
  'type',
  VENDORS.map((v) => v.configSchema) as unknown as [z.ZodObject, ...z.ZodObject[]],
  { error: (issue) => (issue.code === 'invalid_union' ? `unknown source type; expected one of: ${SOURCE_TYPES.join(', ')}` : undefined) },
) as unknown as z.ZodType<SourceConfig>;

export const configSchema = configSchemaOf(sourceSchema, EXPORTER_LABELS);
export type Config = z.infer<typeof configSchema>;

/**
 * What the config loader checks a file against: its schema, each source type's registers file,
 * register address and identity, and what a `register_labels_file` may hold.
 */
export const CONFIG_RULES = { schema: configSchema, kindOf: vendorOf, registerLabels: registerLabelsSchemaOf(EXPORTER_LABELS) };
