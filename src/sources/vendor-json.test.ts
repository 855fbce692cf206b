import { describe, expect, it } from 'vitest';
import { SourceHttp } from '../http/client.js';
import type { HttpResponse, Transport } from '../http/transport.js';
import { atolPageSchema, readAtolProblem } from './atol/parse.js';
import { requestJson, VendorError } from './vendor-json.js';

function answering(status: number, body: string): SourceHttp {
  const res = { status, body: Buffer.from(body) } as HttpResponse;
  const transport: Transport = { send: () => Promise.resolve(res), close: () => Promise.resolve() };
  return new SourceHttp('cloud', transport, { request() {}, rateLimitWait() {}, auth() {} });
}

describe('requestJson', () => {
  // JSON.parse and the vendor schemas read deep nesting without recursing (V8, zod's shallow
  // looseObject); this keeps it so: a stack overflow would be logged as "Maximum call stack size exceeded".
  it('reports a body nested a million deep as an unexpected answer, as a success or an error status', async () => {
    const depth = 1_000_000;
    const body = '['.repeat(depth) + ']'.repeat(depth);
    const req = { method: 'GET' as const, url: 'http://cloud/x', signal: AbortSignal.timeout(5000), maxBytes: 4 << 20 };
    await expect(requestJson(answering(200, body), 'page', req, atolPageSchema, readAtolProblem)).rejects.toThrow(VendorError);
    await expect(requestJson(answering(200, body), 'page', req, atolPageSchema, readAtolProblem)).rejects.toThrow(/^unexpected answer: .*expected object, received array$/);
    await expect(requestJson(answering(500, body), 'page', req, atolPageSchema, readAtolProblem)).rejects.toThrow(/^HTTP 500$/);
  });
});
