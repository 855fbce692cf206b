import type { z } from 'zod';
import type { SourceHttp } from '../http/client.js';
import type { HttpRequest, HttpResponse } from '../http/transport.js';
import { describeZodError } from './fields.js';

/** A vendor answer that is not the data asked for: an HTTP error, bad JSON or the wrong shape. */
export class VendorError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The vendor's own error code (ATOL `errorCode`, ...), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'VendorError';
  }
}

/** What a vendor's error body says, in its own format. */
export type ErrorReader = (status: number, body: unknown) => { message?: string; code?: string };

export function parseJsonBody(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new VendorError(`malformed JSON in a ${res.status} answer (${res.body.length} bytes)`, res.status);
  }
}

/**
 * Sends a request and validates its JSON answer with `schema`. Any non-2xx status becomes a
 * VendorError carrying the vendor's own message and code.
 */
export async function requestJson<S extends z.ZodType>(
  http: SourceHttp,
  endpoint: string,
  req: HttpRequest,
  schema: S,
  readError: ErrorReader,
): Promise<z.infer<S>> {
  const res = await http.send(endpoint, req);
  if (res.status < 200 || res.status > 299) {
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      body = undefined;
    }
    const { message, code } = readError(res.status, body);
    throw new VendorError(`HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`, res.status, code);
  }
  const parsed = schema.safeParse(parseJsonBody(res));
  if (!parsed.success) throw new VendorError(`unexpected answer: ${describeZodError(parsed.error)}`, res.status);
  return parsed.data;
}

/** An API URL under a configured base URL that may carry a path prefix and a trailing slash. */
export function apiUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** The vendor refused the token or session (HTTP 401, or 401 inside a vendor's envelope). */
export function isRejectedToken(err: unknown): err is VendorError {
  return err instanceof VendorError && err.status === 401;
}
