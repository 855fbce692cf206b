import { z } from 'zod';
import { httpUrl, maxRegisters, noRepeats, secret, sourceCommon, templatePathProblem } from '../../config/schema.js';

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

export const businessKassaSource = z.strictObject({
  ...sourceCommon,
  type: z.literal('businesskassa'),
  /** Base URL with any path prefix; the hosted service answers under /v1. */
  url: httpUrl,
  auth: staticAuth.default({}),
  /** Fiscal circuits (by INN) whose register activity to expose; one extra call each per scrape. */
  circuits: z.array(z.union([z.string(), z.number()]).transform(String)).superRefine(noRepeats('circuit')).default([]),
  /**
   * The GET path of one circuit, below `url`. The document's `/fcircuit/{inn}` is the default; public
   * clients of the hosted API are said to call `/orgs/{inn}/fcircuit/...` [guess, unconfirmed].
   */
  circuit_path: z
    .string()
    .superRefine((path, ctx) => {
      const problem = unsafeCircuitPath(path);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('/fcircuit/{inn}'),
  max_registers: maxRegisters,
});
export type BusinessKassaSourceConfig = z.infer<typeof businessKassaSource>;

/** Why a `circuit_path` is not a plain GET path with `{inn}` in it once, or undefined. */
export function unsafeCircuitPath(path: string): string | undefined {
  return templatePathProblem(path, '{inn}');
}
