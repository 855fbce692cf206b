import { afterEach, describe, expect, it, vi } from 'vitest';
import { Logger, type LogRecord } from '../log.js';
import { AuthError, SessionRegistry, TokenSession } from './auth.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function capturingLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { log: new Logger((r) => records.push(r), 'debug'), records };
}

function counter(make: (n: number) => { token: string; expiresAt?: number } | Error) {
  let calls = 0;
  const login = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 5));
    const t = make(calls);
    if (t instanceof Error) throw t;
    return t;
  };
  return { login, calls: () => calls };
}

describe('TokenSession', () => {
  it('logs in once and reuses the token', async () => {
    const s = new TokenSession();
    const c = counter((n) => ({ token: `t${n}`, expiresAt: Date.now() + 3_600_000 }));
    expect(await s.token(c.login)).toBe('t1');
    expect(await s.token(c.login)).toBe('t1');
    expect(c.calls()).toBe(1);
  });

  it('shares one login between concurrent callers', async () => {
    const s = new TokenSession();
    const c = counter((n) => ({ token: `t${n}` }));
    const tokens = await Promise.all(Array.from({ length: 10 }, () => s.token(c.login)));
    expect(new Set(tokens)).toEqual(new Set(['t1']));
    expect(c.calls()).toBe(1);
  });

  it('renews before the stated expiry', async () => {
    const s = new TokenSession({ refreshMarginMs: 60_000 });
    const issuedAt = Date.now();
    const c = counter((n) => ({ token: `t${n}`, expiresAt: Date.now() + 120_000 }));
    expect(await s.token(c.login)).toBe('t1');
    vi.spyOn(Date, 'now').mockReturnValue(issuedAt + 59_000);
    expect(await s.token(c.login)).toBe('t1');
    vi.spyOn(Date, 'now').mockReturnValue(issuedAt + 61_000);
    expect(await s.token(c.login)).toBe('t2');
    expect(c.calls()).toBe(2);
  });

  it('uses a token issued already expired until the vendor rejects it, and says so once', async () => {
    const { log, records } = capturingLogger();
    const s = new TokenSession({ log });
    const c = counter((n) => ({ token: `t${n}`, expiresAt: Date.now() - 3_600_000 }));
    const rejected = (e: unknown) => e === 'rejected';
    let reject = false;
    const call = async (token: string) => {
      if (reject && token === 't1') throw 'rejected';
      return token;
    };
    for (let i = 0; i < 9; i++) expect(await s.withToken(c.login, call, rejected)).toBe('t1');
    expect(c.calls()).toBe(1);
    reject = true;
    expect(await s.withToken(c.login, call, rejected)).toBe('t2');
    expect(c.calls()).toBe(2);
    const warnings = records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/stated expiry has passed/);
    expect(warnings[0]?.fields.expires_in_seconds).toBe(-3600);
  });

  it('also keeps a token whose stated life is shorter than the refresh margin', async () => {
    const s = new TokenSession({ refreshMarginMs: 60_000 });
    const c = counter((n) => ({ token: `t${n}`, expiresAt: Date.now() + 30_000 }));
    await s.token(c.login);
    await s.token(c.login);
    expect(c.calls()).toBe(1);
  });

  it('on a rejected token renews once and retries once; many rejections of the same token make one login', async () => {
    const s = new TokenSession();
    const c = counter((n) => ({ token: `t${n}` }));
    const rejected = (e: unknown) => e === 'rejected';
    const calls: string[] = [];
    const call = async (token: string) => {
      calls.push(token);
      if (token === 't1') throw 'rejected';
      return token;
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => s.withToken(c.login, call, rejected)));
    expect(results).toEqual(['t2', 't2', 't2', 't2', 't2']);
    expect(c.calls()).toBe(2);
    expect(calls.filter((t) => t === 't1')).toHaveLength(5);
  });

  it('does not loop when the new token is rejected too', async () => {
    const s = new TokenSession();
    const c = counter((n) => ({ token: `t${n}` }));
    let attempts = 0;
    await expect(
      s.withToken(c.login, async () => {
        attempts++;
        throw 'rejected';
      }, () => true),
    ).rejects.toBe('rejected');
    expect(attempts).toBe(2);
    expect(c.calls()).toBe(2);
  });

  it('after wrong credentials fails at once until the back-off passes', async () => {
    const s = new TokenSession({ wrongCredentialsBackoffMs: 100 });
    const c = counter(() => new AuthError('wrong_credentials', 'no'));
    await expect(s.token(c.login)).rejects.toBeInstanceOf(AuthError);
    await expect(s.token(c.login)).rejects.toBeInstanceOf(AuthError);
    expect(c.calls()).toBe(1);
    await new Promise((r) => setTimeout(r, 120));
    await expect(s.token(c.login)).rejects.toBeInstanceOf(AuthError);
    expect(c.calls()).toBe(2);
  });

  it('retries other login failures on the next call', async () => {
    const s = new TokenSession();
    const c = counter((n) => (n === 1 ? new AuthError('error', 'HTTP 500') : { token: 'ok' }));
    await expect(s.token(c.login)).rejects.toThrow('HTTP 500');
    expect(await s.token(c.login)).toBe('ok');
  });
});

describe('SessionRegistry', () => {
  it('keeps one session per set of credentials, across config generations', () => {
    const r = new SessionRegistry();
    expect(r.get(['atol', 'https://x', 'login', 'pw'])).toBe(r.get(['atol', 'https://x', 'login', 'pw']));
    expect(r.get(['atol', 'https://x', 'login', 'pw'])).not.toBe(r.get(['atol', 'https://x', 'login', 'pw2']));
  });
});
