import { describe, expect, it } from 'vitest';
import { deadlineIn } from '../../http/deadline.js';
import type { HttpResponse } from '../../http/transport.js';
import { UkmRegisterPool, type ReadRequest } from './reads.js';

const request = (fetch: ReadRequest['fetch']): ReadRequest => ({
  endpoints: ['paper', 'ofd'],
  deadline: deadlineIn(3000),
  intervalMs: 50,
  fetch,
  parse: (endpoint, status, body) => [{ metric: endpoint === 'paper' ? 'kkt_paper_present' : 'kkt_unsent_docs', value: status === 200 ? Number(body || 1) : 0 }],
  onWait: () => {},
});

const answer = (body: string): Promise<HttpResponse> => Promise.resolve({ status: 200, body: Buffer.from(body) });

describe('UkmRegisterPool', () => {
  it('parses each answer as it arrives and reports an unparsable one as that endpoint failing', async () => {
    const pool = new UkmRegisterPool();
    const outcomes = await pool.read(
      'http://10.0.0.1:8080',
      request((endpoint) => answer(endpoint === 'ofd' ? '7' : '')),
    );
    expect(outcomes.of('paper')).toEqual({ ok: true, samples: [{ metric: 'kkt_paper_present', value: 1 }] });
    expect(outcomes.of('ofd')).toEqual({ ok: true, samples: [{ metric: 'kkt_unsent_docs', value: 7 }] });
    expect(outcomes.of('weight')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
    const bad = { ...request((e) => answer(e)), parse: () => { throw new Error('no single value in JSON body'); } };
    const failed = await new UkmRegisterPool().read('http://10.0.0.2:8080', bad);
    expect(failed.of('paper')).toEqual({ ok: false, error: 'no single value in JSON body' });
  });

  it('a request that throws instead of failing its promise does not hold the register for good', async () => {
    const pool = new UkmRegisterPool();
    const first = await pool.read(
      'http://10.0.0.3:8080',
      request(() => {
        throw new Error('transport bug');
      }),
    );
    expect(first.of('paper')).toEqual({ ok: false, error: 'transport bug' });
    // The register's gate was released: the next read goes through.
    await new Promise((r) => setTimeout(r, 60));
    const second = await pool.read('http://10.0.0.3:8080', request(() => answer('1')));
    expect(second.of('paper').ok).toBe(true);
  });
});
