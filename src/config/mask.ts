import { stringify } from 'yaml';
import { SECRET_KEYS, SECRET_MAPS } from './schema.js';

export const MASK = '<secret>';

/**
 * A deep copy with every secret value replaced by `<secret>`, for debug output and the landing page.
 * A parsed value that knows how it was written (toJSON, e.g. trading hours) is shown that way.
 */
export function maskSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(maskSecrets) as T;
  if (value === null || typeof value !== 'object') return value;
  if ('toJSON' in value && typeof value.toJSON === 'function') return maskSecrets(value.toJSON() as T);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if ((SECRET_KEYS as readonly string[]).includes(key) && v !== undefined) out[key] = MASK;
    else if ((SECRET_MAPS as readonly string[]).includes(key) && v && typeof v === 'object') {
      out[key] = Object.fromEntries(Object.keys(v).map((k) => [k, MASK]));
    } else out[key] = maskSecrets(v);
  }
  return out as T;
}

export function maskedYaml(value: unknown): string {
  return stringify(maskSecrets(value));
}
