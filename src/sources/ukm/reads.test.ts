import { describe, expect, it } from 'vitest';
import { Deadline } from '../../http/deadline.js';
import { TransportError, type HttpResponse } from '../../http/transport.js';
import { UkmRegisterPool, type ReadRequest } from './reads.js';

const request = (fetch: ReadRequest['fetch']): ReadRequest => ({
  endpoints: ['paper', 'ofd'],
  deadline: Deadline.in(3000),
  intervalMs: 50,
  fetch,
  parse: (endpoint, status, body) => [{ metric: endpoint === 'paper' ? 'kkt_paper_present' : 'kkt_unsent_docs', value: status === 200 ? Number(body || 1) : 0 }],
  onWait: () => {},
});

const urls = { urls: new Map((['paper', 'ofd'] as const).map((e) => [e, `http://register/api/v1/status/${e}`])), zone: 'Europe/Moscow' };

const answer = (body: string): Promise<HttpResponse> => Promise.resolve({ status: 200, body: Buffer.from(body) });

describe('UkmRegisterPool', () => {
  it('parses each answer as it arrives and reports an unparsable one as that endpoint failing', async () => {
    const pool = new UkmRegisterPool();
    const outcomes = await pool.read('http://10.0.0.1:8080', urls, request((_url, endpoint) => answer(endpoint === 'ofd' ? '7' : '')));
    expect(outcomes.of('paper')).toEqual({ ok: true, samples: [{ metric: 'kkt_paper_present', value: 1 }] });
    expect(outcomes.of('ofd')).toEqual({ ok: true, samples: [{ metric: 'kkt_unsent_docs', value: 7 }] });
    expect(outcomes.of('weight')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
    const bad = { ...request((_url, e) => answer(e)), parse: () => { throw new Error('no single value in JSON body'); } };
    const failed = await new UkmRegisterPool().read('http://10.0.0.2:8080', urls, bad);
    expect(failed.of('paper')).toEqual({ ok: false, error: 'no single value in JSON body' });
  });

  it('a request that throws instead of failing its promise does not hold the register for good', async () => {
    const pool = new UkmRegisterPool();
    const throwing = request(() => {
      throw new Error('transport bug');
    });
    const first = await pool.read('http://10.0.0.3:8080', urls, throwing);
    expect(first.of('paper')).toEqual({ ok: false, error: 'transport bug' });
    // The register's gate was released: the next read goes through.
    await new Promise((r) => setTimeout(r, 60));
    const second = await pool.read('http://10.0.0.3:8080', urls, request(() => answer('1')));
    expect(second.of('paper').ok).toBe(true);
  });

  it("a short deadline ends only that scrape's wait: the request goes on for a scrape that joined with more time", async () => {
    const pool = new UkmRegisterPool();
    const asked: string[] = [];
    const slowPaper: ReadRequest['fetch'] = (_url, endpoint, signal) =>
      new Promise((resolve, reject) => {
        asked.push(endpoint);
        const timer = setTimeout(() => resolve({ status: 200, body: Buffer.from('') }), endpoint === 'paper' ? 300 : 0);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new TransportError('timeout', 'request aborted: scrape deadline reached'));
        });
      });
    const first = pool.read('http://10.0.0.5:8080', urls, { ...request(slowPaper), deadline: Deadline.in(150) });
    await new Promise((r) => setTimeout(r, 50));
    const second = pool.read('http://10.0.0.5:8080', urls, { ...request(slowPaper), deadline: Deadline.in(3000) });
    const short = await first;
    // The short scrape saw no answer by its deadline: not read, rather than the till failing.
    expect(short.of('paper')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
    const late = await second;
    expect(late.of('paper')).toEqual({ ok: true, samples: [{ metric: 'kkt_paper_present', value: 1 }] });
    expect(late.of('ofd').ok).toBe(true);
    expect(asked).toEqual(['paper', 'ofd']);
  });

  it('the last deadline among the scrapes sharing a read ends its request in flight', async () => {
    const pool = new UkmRegisterPool();
    const hanging: ReadRequest['fetch'] = (_url, _endpoint, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new TransportError('timeout', `request aborted: ${(signal.reason as Error).message}`)));
      });
    const started = performance.now();
    const first = pool.read('http://10.0.0.8:8080', urls, { ...request(hanging), deadline: Deadline.in(100) });
    const second = pool.read('http://10.0.0.8:8080', urls, { ...request(hanging), deadline: Deadline.in(300) });
    await first;
    const late = await second;
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(performance.now() - started).toBeLessThan(800);
    expect(late.of('paper')).toEqual({ ok: false, error: 'request aborted: scrape deadline reached' });
    expect(late.of('ofd')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
  });

  it("a scrape sooner than the register's interval gets the last read again, failures included, unless a deadline cut it short", async () => {
    const pool = new UkmRegisterPool();
    let asked = 0;
    const failing = request(() => {
      asked++;
      return Promise.resolve({ status: 500, body: Buffer.from('') });
    });
    const slow = { ...failing, intervalMs: 200 };
    const first = await pool.read('http://10.0.0.6:8080', urls, slow);
    const again = await pool.read('http://10.0.0.6:8080', urls, slow);
    expect(asked).toBe(2); // paper and ofd once each
    expect(again).toBe(first);

    // Cut short: the second endpoint's slot came after the deadline, so the next scrape reads again.
    const cut = await pool.read('http://10.0.0.7:8080', urls, { ...slow, deadline: Deadline.in(100) });
    expect(cut.of('ofd')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
    const reread = await pool.read('http://10.0.0.7:8080', urls, { ...slow, deadline: Deadline.in(1000) });
    expect(reread).not.toBe(cut);
    expect(asked).toBe(5);
  });
});
