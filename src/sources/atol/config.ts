import { z } from 'zod';
import { httpUrl, maxRegisters, secret, sourceCommon } from '../../config/schema.js';

export const atolSource = z.strictObject({
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
