import { z } from 'zod';
import { duration, httpUrl, maxRegisters, noRepeats, secret, sourceCommon, templatePathProblem } from '../../config/schema.js';

export const kassa24Source = z.strictObject({
  ...sourceCommon,
  type: z.literal('kassa24'),
  url: httpUrl.default('https://fiscal2.kassa24.kz'),
  login: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1)),
  password: secret('password'),
  /** Registers (IdKkm) to watch; default: every register GET /kkms returns. */
  kkms: z.array(z.number().int().positive()).superRefine(noRepeats('register')).optional(),
  /** Registers read at once. */
  concurrency: z.number().int().min(1).max(64).default(8),
  max_registers: maxRegisters,
  /**
   * Read the register's `Lock` as "blocked" (kkt_register_blocked 1). A guess: the field is seen in a
   * public sample of the backend's models, its meaning is not documented; `IdStatusKkm` 3 and the
   * 403 "касса заблокирована" are the confirmed signals.
   */
  blocked_from_lock: z.boolean().default(false),
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
    // prefault: an absent `xreport` is parsed as {}, so its defaults are written once, above.
    .prefault({}),
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
  const problem = templatePathProblem(path, '{shift}');
  if (problem) return problem;
  const segments = path.slice(1).split('/');
  const shift = segments.indexOf('{shift}');
  if (shift === segments.length - 1) return 'must name a report below the shift (e.g. /shifts/{shift}/x), not the shift itself';
  const write = segments.find((seg) => SHIFT_WRITE_SEGMENTS.has(seg.toLowerCase()));
  if (write) return `must not reach "/${write}": it could close or open a shift (only an X-report may be taken)`;
  const shifts = segments.findIndex((seg) => seg.toLowerCase() === 'shifts');
  if (shifts >= 0 && segments[shifts + 1] !== '{shift}') return '"/shifts" must be followed by /{shift} (POST /shifts opens a shift)';
  return undefined;
}
