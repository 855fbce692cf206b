import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createBasicAuth, type BasicAuth, type Comparer } from './basic-auth.js';
import { BcryptWorker } from './bcrypt-worker.js';

const HASH = bcrypt.hashSync('scrape-pw', 4);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A comparer whose answers the test releases by hand, recording what it was asked. */
function manualComparer() {
  const calls: { password: string; hash: string; answer: (ok: boolean) => void; fail: () => void }[] = [];
  const comparer: Comparer = {
    compare: (password, hash) =>
      new Promise<boolean>((resolve, reject) => calls.push({ password, hash, answer: resolve, fail: () => reject(new Error('died')) })),
    close: async () => {},
  };
  return { comparer, calls };
}

let auth: BasicAuth | undefined;
afterEach(async () => {
  await auth?.close();
  auth = undefined;
});

describe('basic auth', () => {
  it('accepts the right password and refuses a wrong one, an unknown user and a malformed header', async () => {
    auth = createBasicAuth({ prometheus: HASH });
    expect(await auth.check(basic('prometheus', 'scrape-pw'), 'a')).toBe('ok');
    expect(await auth.check(basic('prometheus', 'wrong'), 'a')).toBe('denied');
    expect(await auth.check(basic('nobody', 'scrape-pw'), 'a')).toBe('denied');
    expect(await auth.check(undefined, 'a')).toBe('denied');
    expect(await auth.check('Basic bm9jb2xvbg==', 'a')).toBe('denied');
  });

  it('does not find user names on Object.prototype', async () => {
    auth = createBasicAuth({ prometheus: HASH });
    for (const user of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(await auth.check(basic(user, 'x'), 'a')).toBe('denied');
    }
  });

  it('compares an unknown user against a dummy hash of the configured cost', async () => {
    const { comparer, calls } = manualComparer();
    auth = createBasicAuth({ a: bcrypt.hashSync('x', 4), b: bcrypt.hashSync('y', 6) }, { comparer });
    const verdict = auth.check(basic('nobody', 'pw'), 'a');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.hash).toMatch(/^\$2b\$06\$[./A-Za-z0-9]{53}$/);
    expect(bcrypt.compareSync('pw', calls[0]?.hash as string)).toBe(false);
    calls[0]?.answer(true);
    expect(await verdict).toBe('denied');
  });

  it('remembers successes and failures, so a repeated credential costs no compare', async () => {
    const { comparer, calls } = manualComparer();
    auth = createBasicAuth({ prometheus: HASH }, { comparer });
    const first = [auth.check(basic('prometheus', 'scrape-pw'), 'a'), auth.check(basic('prometheus', 'wrong'), 'a'), auth.check(basic('nobody', 'x'), 'a')];
    expect(calls).toHaveLength(3);
    calls[0]?.answer(true);
    calls[1]?.answer(false);
    calls[2]?.answer(false);
    expect(await Promise.all(first)).toEqual(['ok', 'denied', 'denied']);
    expect(await auth.check(basic('prometheus', 'scrape-pw'), 'b')).toBe('ok');
    expect(await auth.check(basic('prometheus', 'wrong'), 'b')).toBe('denied');
    expect(await auth.check(basic('nobody', 'x'), 'b')).toBe('denied');
    expect(calls).toHaveLength(3);
  });

  it('shares one compare between concurrent requests with the same credentials', async () => {
    const { comparer, calls } = manualComparer();
    auth = createBasicAuth({ prometheus: HASH }, { comparer, maxQueued: 1, maxQueuedPerClient: 1 });
    const checks = [1, 2, 3].map(() => auth?.check(basic('prometheus', 'scrape-pw'), 'a'));
    expect(calls).toHaveLength(1);
    calls[0]?.answer(true);
    expect(await Promise.all(checks)).toEqual(['ok', 'ok', 'ok']);
  });

  it('refuses checks beyond the queue, in all and per client, without comparing them', async () => {
    const { comparer, calls } = manualComparer();
    auth = createBasicAuth({ prometheus: HASH }, { comparer, maxQueued: 4, maxQueuedPerClient: 2 });
    const a = [1, 2, 3].map((i) => auth?.check(basic('prometheus', `wrong-${i}`), 'a'));
    expect(await a[2]).toBe('busy');
    const b = [1, 2, 3].map((i) => auth?.check(basic('nobody', `wrong-${i}`), 'b'));
    expect(await b[2]).toBe('busy');
    expect(await auth.check(basic('prometheus', 'scrape-pw'), 'c')).toBe('busy');
    expect(calls).toHaveLength(4);
    for (const c of calls) c.answer(false);
    await Promise.all([...a, ...b]);
    const late = auth.check(basic('prometheus', 'scrape-pw'), 'c');
    calls[4]?.answer(true);
    expect(await late).toBe('ok');
  });

  it('fails closed when a compare dies, and remembers nothing', async () => {
    const { comparer, calls } = manualComparer();
    auth = createBasicAuth({ prometheus: HASH }, { comparer });
    const dying = auth.check(basic('prometheus', 'scrape-pw'), 'a');
    calls[0]?.fail();
    expect(await dying).toBe('denied');
    const retry = auth.check(basic('prometheus', 'scrape-pw'), 'a');
    expect(calls).toHaveLength(2);
    calls[1]?.answer(true);
    expect(await retry).toBe('ok');
  });
});

describe('BcryptWorker', () => {
  it('rejects the compares of a worker that exits, and starts a new one for the next', async () => {
    const worker = new BcryptWorker();
    const slow = bcrypt.hashSync('pw', 12);
    const pending = worker.compare('pw', slow);
    await worker.close();
    await expect(pending).rejects.toThrow(/exited/);
    expect(await worker.compare('scrape-pw', HASH)).toBe(true);
    expect(await worker.compare('wrong', HASH)).toBe(false);
    await worker.close();
  });

  it('answers false for a malformed hash instead of dying', async () => {
    const worker = new BcryptWorker();
    expect(await worker.compare('pw', `$2b$04$${'!'.repeat(53)}`)).toBe(false);
    expect(await worker.compare('scrape-pw', HASH)).toBe(true);
    await worker.close();
  });
});
