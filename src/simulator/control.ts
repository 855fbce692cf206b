import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readBody, sendJson } from './http.js';

/** A control request's body as its schema reads it, or the 400 to answer instead. */
export type ControlBody<T> = { ok: true; value: T } | { ok: false; error: string; known_keys?: string[] };

/** The object schema at `path` inside `schema` (through optional, nullable and array wrappers). */
function objectAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodObject | undefined {
  let s: z.ZodType | undefined = schema;
  for (const key of [...path, undefined]) {
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodArray) s = s instanceof z.ZodArray ? (s.element as z.ZodType) : (s.unwrap() as z.ZodType);
    if (key === undefined) break;
    if (!(s instanceof z.ZodObject) || typeof key !== 'string') return undefined;
    s = s.shape[key] as z.ZodType | undefined;
  }
  return s instanceof z.ZodObject ? s : undefined;
}

/** The first problem of a body, in words: an unknown key names the keys that place knows. */
function describeIssue(schema: z.ZodType, issue: z.core.$ZodIssue): { error: string; known_keys?: string[] } {
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(objectAt(schema, issue.path)?.shape ?? {});
    return { error: `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; known keys: ${known.join(', ')}`, known_keys: known };
  }
  return { error: `${where}${issue.message}` };
}

/** Checks a parsed JSON body against a control schema (strict objects: an unknown key is an error). */
export function checkControlBody<S extends z.ZodType>(schema: S, body: unknown): ControlBody<z.output<S>> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, ...describeIssue(schema, parsed.error.issues[0] as z.core.$ZodIssue) };
}

/** Reads a control request's JSON body (empty: `{}`) and checks it; on a problem answers 400 and gives undefined. */
export async function readControlBody<S extends z.ZodType>(req: IncomingMessage, res: ServerResponse, schema: S): Promise<z.output<S> | undefined> {
  const text = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(text || '{}');
  } catch {
    sendJson(res, 400, { error: 'the body is not JSON' });
    return undefined;
  }
  const checked = checkControlBody(schema, body);
  if (checked.ok) return checked.value;
  sendJson(res, 400, { error: checked.error, ...(checked.known_keys ? { known_keys: checked.known_keys } : {}) });
  return undefined;
}

/** A whole number in [min, max]. */
export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

/** Unix seconds, as the control API takes every instant. */
export const unixSeconds = wholeNumber(0, 253_402_300_799); // up to 9999-12-31

/** Each field optional, and `null` to clear it. */
export function clearableFields<T extends Record<string, z.ZodType>>(shape: T): { [K in keyof T]: z.ZodOptional<z.ZodNullable<T[K]>> } {
  return Object.fromEntries(Object.entries(shape).map(([key, type]) => [key, type.nullable().optional()])) as { [K in keyof T]: z.ZodOptional<z.ZodNullable<T[K]>> };
}
