import { getResponse, type RequestHandler } from 'msw';
import { TransportError, type HttpRequest, type HttpResponse, type Transport } from '../../src/http/transport.js';

/**
 * The HTTP layer's seam routed to msw handlers: msw does not see undici's request(), so unit
 * tests hand their handlers to the sources through this transport instead.
 */
export function mswTransport(handlers: RequestHandler[], log: HttpRequest[] = []): Transport {
  return {
    async send(req: HttpRequest): Promise<HttpResponse> {
      log.push(req);
      req.signal.throwIfAborted();
      const res = await getResponse(handlers, new Request(req.url, { method: req.method, headers: req.headers, body: req.body, signal: req.signal }));
      if (!res) throw new TransportError('refused', `no msw handler for ${req.method} ${req.url}`);
      if (res.type === 'error') throw new TransportError('reset', 'connection reset');
      const body = Buffer.from(await res.arrayBuffer());
      if (body.length > req.maxBytes) throw new TransportError('too_large', `response body larger than ${req.maxBytes} bytes, cut off`);
      return { status: res.status, body };
    },
    async close() {},
  };
}
