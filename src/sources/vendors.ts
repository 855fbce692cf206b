import { z } from 'zod';
import { configSchemaOf } from '../config/schema.js';
import { atolVendor } from './atol/vendor.js';
import { businessKassaVendor } from './businesskassa/vendor.js';
import { kassa24Vendor } from './kassa24/vendor.js';
import { ukmVendor } from './ukm/vendor.js';
import type { AnyVendor } from './vendor.js';

/** Every vendor the exporter reads. A new vendor is a folder under sources/ and one entry here. */
export const VENDORS = [ukmVendor, atolVendor, businessKassaVendor, kassa24Vendor] as const;

export type SourceConfig = z.infer<(typeof VENDORS)[number]['configSchema']>;
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

export const configSchema = configSchemaOf(sourceSchema);
export type Config = z.infer<typeof configSchema>;
