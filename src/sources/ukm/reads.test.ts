import { describe, expect, it } from 'vitest';
import { Deadline } from '../../deadline/deadline.js';
import { HostAddresses } from '../../http/host-addresses.js';
import { TransportError, type HttpResponse } from '../../http/transport.js';
import { MAX_AD_HOC_TARGETS } from '../source.js';
import { UkmRegisterPool, type ReadRequest, type ReadTarget } from './reads.js';
import { addressKeysAt, registerPlaceOf } from './address.js';

const request = (fetch: ReadRequest['fetch']): ReadRequest => ({
  endpoints: ['paper', 'ofd'],
  deadline: Deadline.in(3000),
  intervalMs: 50,
  fetch,
  parse: (endpoint, status, body) => [{ metric: endpoint === 'paper' ? 'kkt_paper_present' : 'kkt_unsent_docs', value: status === 200 ? Number(body || 1) : 0 }],
  onWait: () => {},
});

const urls = new Map((['paper', 'ofd'] as const).map((e) => [e, `http://register/api/v1/status/${e}`]));

/** A register at `url` as the source hands it to the pool (an IP address: keyed without DNS). */
function at(url: string, adHoc = false): ReadTarget {
  const place = registerPlaceOf(url);
  return { urls, zone: 'Europe/Moscow', place, adHoc, ...(place.isIp ? { keys: addressKeysAt(place, place.host) } : {}) };
}

const answer = (body: string): Promise<HttpResponse> => Promise.resolve({ status: 200, body: Buffer.from(body) });

describe('UkmRegisterPool', () => {
  it('parses each answer as it arrives and reports an unparsable one as that endpoint failing', async () => {
    const pool = new UkmRegisterPool();
    const outcomes = await pool.read(at('http://10.0.0.1:8080'), request((_url, endpoint) => answer(endpoint === 'ofd' ? '7' : '')));
    expect(outcomes.of('paper')).toEqual({ ok: true, samples: [{ metric: 'kkt_paper_present', value: 1 }] });
    expect(outcomes.of('ofd')).toEqual({ ok: true, samples: [{ metric: 'kkt_unsent_docs', value: 7 }] });
    expect(outcomes.of('weight')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
    const bad = { ...request((_url, e) => answer(e)), parse: () => { throw new Error('no single value in JSON body'); } };
    const failed = await new UkmRegisterPool().read(at('http://10.0.0.2:8080'), bad);
    expect(failed.of('paper')).toEqual({ ok: false, error: 'no single value in JSON body' });
  });

  it('a request that throws instead of failing its promise does not hold the register for good', async () => {
    const pool = new UkmRegisterPool();
    const throwing = request(() => {
      throw new Error('transport bug');
    });
    const first = await pool.read(at('http://10.0.0.3:8080'), throwing);
    expect(first.of('paper')).toEqual({ ok: false, error: 'transport bug' });
    // The register's gate was released: the next read goes through.
    await new Promise((r) => setTimeout(r, 60));
    const second = await pool.read(at('http://10.0.0.3:8080'), request(() => answer('1')));
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
    const first = pool.read(at('http://10.0.0.5:8080'), { ...request(slowPaper), deadline: Deadline.in(150) });
    await new Promise((r) => setTimeout(r, 50));
    const second = pool.read(at('http://10.0.0.5:8080'), { ...request(slowPaper), deadline: Deadline.in(3000) });
    const short = await first;
    // The short scrape saw no answer by its deadline: not read, rather than the register failing.
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
    const first = pool.read(at('http://10.0.0.8:8080'), { ...request(hanging), deadline: Deadline.in(100) });
    const second = pool.read(at('http://10.0.0.8:8080'), { ...request(hanging), deadline: Deadline.in(300) });
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
    const first = await pool.read(at('http://10.0.0.6:8080'), slow);
    const again = await pool.read(at('http://10.0.0.6:8080'), slow);
    expect(asked).toBe(2); // paper and ofd once each
    expect(again).toBe(first);

    // Cut short: the second endpoint's slot came after the deadline, so the next scrape reads again.
    const cut = await pool.read(at('http://10.0.0.7:8080'), { ...slow, deadline: Deadline.in(100) });
    expect(cut.of('ofd')).toEqual({ ok: false, error: 'not read: the scrape deadline came first' });
    const reread = await pool.read(at('http://10.0.0.7:8080'), { ...slow, deadline: Deadline.in(1000) });
    expect(reread).not.toBe(cut);
    expect(asked).toBe(5);
  });
});

describe('UkmRegisterPool: one gate per register address, whatever it is called', () => {
  const resolveLocal = async (host: string) => {
    if (host === 'register.test') return { address: '127.0.0.1', family: 4 as const };
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  const named = (url: string): ReadTarget => ({ urls, zone: 'Europe/Moscow', place: registerPlaceOf(url), adHoc: false });

  it('a register named by host name and an ad-hoc target at its address share one gate: requests stay an interval apart', async () => {
    const pool = new UkmRegisterPool(new HostAddresses(resolveLocal));
    const sent: number[] = [];
    const fetch: ReadRequest['fetch'] = () => {
      sent.push(performance.now());
      return answer('1');
    };
    const spaced = { ...request(fetch), intervalMs: 150 };
    await Promise.all([
      pool.read(named('http://register.test:8080'), { ...spaced, endpoints: ['paper'] }),
      pool.read(at('http://127.0.0.1:8080', true), { ...spaced, endpoints: ['ofd'] }),
      pool.read(named('http://register.test:8080/'), { ...spaced, endpoints: ['paper', 'ofd'] }),
    ]);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < sent.length; i++) expect((sent[i] as number) - (sent[i - 1] as number)).toBeGreaterThanOrEqual(145);
    expect(pool.sizes).toMatchObject({ gates: 1, reads: 1, hosts: 1 });
  });

  it('a host name that does not resolve fails the read as a refused connection does, saying why, and sends nothing', async () => {
    const pool = new UkmRegisterPool(new HostAddresses(resolveLocal));
    let asked = 0;
    const outcomes = await pool.read(named('http://gone.test:8080'), request(() => (asked++, answer('1'))));
    expect(outcomes.of('paper')).toEqual({ ok: false, error: 'cannot resolve host "gone.test": ENOTFOUND' });
    expect(outcomes.of('ofd')).toEqual({ ok: false, error: 'not read: the register did not answer an earlier endpoint' });
    expect(asked).toBe(0);
  });
});

describe('UkmRegisterPool: the state of ad-hoc targets is bounded', () => {
  const refused = () => Promise.reject(new TransportError('refused', 'connection refused'));
  const adHocTarget = (i: number) => at(`http://127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`, true);

  it(`keeps ${MAX_AD_HOC_TARGETS} ad-hoc targets, however many are probed, and never drops a configured register`, async () => {
    const pool = new UkmRegisterPool();
    const configured = at('http://10.0.0.1:8080');
    const once = { ...request(() => answer('1')), endpoints: ['paper' as const], intervalMs: 60_000 };
    const kept = await pool.read(configured, once);
    for (let i = 0; i < 3 * MAX_AD_HOC_TARGETS; i++) await pool.read(adHocTarget(i), { ...request(refused), intervalMs: 0 });
    const sizes = pool.sizes;
    expect(sizes.adHoc).toBeLessThanOrEqual(MAX_AD_HOC_TARGETS);
    expect(sizes.reads).toBeLessThanOrEqual(MAX_AD_HOC_TARGETS + 1);
    expect(sizes.gates).toBeLessThanOrEqual(MAX_AD_HOC_TARGETS + 1);
    // The configured register's read is still there: asked again within its interval, it answers from it.
    expect(await pool.read(configured, once) === kept).toBe(true);
    expect(pool.gates.peek('http://10.0.0.1:8080')).toBeDefined();
  });

  it("never drops the gate of an ad-hoc target whose register was asked less than its interval ago", async () => {
    const pool = new UkmRegisterPool();
    const sent: number[] = [];
    const first = adHocTarget(1_000_000);
    const fetch: ReadRequest['fetch'] = () => (sent.push(performance.now()), answer('1'));
    await pool.read(first, { ...request(fetch), endpoints: ['paper'], intervalMs: 400 });
    const ended = performance.now();
    for (let i = 0; i < 2 * MAX_AD_HOC_TARGETS; i++) await pool.read(adHocTarget(i), { ...request(refused), intervalMs: 0 });
    // Other endpoints: not the read just made, a new one through the same gate.
    await pool.read(first, { ...request(fetch), endpoints: ['paper', 'ofd'], intervalMs: 400 });
    expect(sent).toHaveLength(3);
    expect((sent[1] as number) - ended).toBeGreaterThanOrEqual(395);
  });
});
