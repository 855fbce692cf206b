import { z } from 'zod';

/**
 * Lenient field types shared by every vendor schema: vendors send numbers as strings, booleans
 * as 0/1, and so on. Anything else fails validation of the record, which the source reports.
 */
export const num = z.union([z.number(), z.string().trim().regex(/^-?\d+(?:\.\d+)?$/, 'not a number').transform(Number)]).refine(Number.isFinite, 'not a finite number');

export const int = num.refine(Number.isInteger, 'not an integer');

export const bool = z.union([
  z.boolean(),
  z.literal(0).transform(() => false),
  z.literal(1).transform(() => true),
  z.enum(['true', 'false', '0', '1']).transform((v) => v === 'true' || v === '1'),
]);

export const str = z.union([z.string(), z.number().transform(String)]);

/** An optional field where null, like absence, means "not reported". */
export const opt = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

/** "unexpected shape: fs.phase: not a number; ..." from a zod error, for logs. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}
