import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { BcryptWorker } from './bcrypt-worker.js';

/**
 * Checks that may be in the bcrypt worker at once (waiting or running), in all and per client address.
 * At cost 10 (~80 ms) a full queue drains in well under a second, and one address can hold only half
 * of it, so a flood from one address leaves room for Prometheus's first, not yet cached, scrape.
 */
export const MAX_QUEUED = 8;
export const MAX_QUEUED_PER_CLIENT = 4;
/** Only someone who knows a password can add to the first, so a flood of wrong ones cannot evict it. */
const ALLOWED_CACHE = 1000;
const DENIED_CACHE = 256;

export type Verdict = 'ok' | 'denied' | 'busy';

export interface Comparer {
  compare(password: string, hash: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface BasicAuthOptions {
  maxQueued?: number;
  maxQueuedPerClient?: number;
  comparer?: Comparer;
}

export interface BasicAuth {
  /** Never rejects: a check that cannot finish (the worker died) is 'denied' and not remembered. */
  check(authorization: string | undefined, client: string): Promise<Verdict>;
  close(): Promise<void>;
}

/** A set of the most recently used keys. */
class Lru {
  private readonly keys = new Set<string>();
  constructor(private readonly size: number) {}

  has(key: string): boolean {
    if (!this.keys.delete(key)) return false;
    this.keys.add(key);
    return true;
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.size) this.keys.delete(this.keys.values().next().value as string);
  }
}

function parseBasic(authorization: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function cost(hash: string): number {
  return Number(/^\$2[abxy]?\$(\d\d)\$/.exec(hash)?.[1] ?? 10);
}

/**
 * A well-formed hash of the highest configured cost that no password matches: comparing an unknown
 * user's password against it takes as long as a known user's, so timing does not reveal user names.
 */
function dummyHash(hashes: string[]): string {
  const rounds = Math.max(4, ...hashes.map(cost));
  const filler = randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '.').slice(0, 31);
  return bcrypt.genSaltSync(rounds) + filler;
}

export function createBasicAuth(users: Record<string, string>, options: BasicAuthOptions = {}): BasicAuth {
  const maxQueued = options.maxQueued ?? MAX_QUEUED;
  const maxPerClient = options.maxQueuedPerClient ?? MAX_QUEUED_PER_CLIENT;
  const comparer = options.comparer ?? new BcryptWorker();
  // A Map, so that names like "constructor" or "__proto__" are not found on Object.prototype.
  const hashes = new Map(Object.entries(users));
  const dummy = dummyHash([...hashes.values()]);
  const allowed = new Lru(ALLOWED_CACHE);
  const denied = new Lru(DENIED_CACHE);
  const inflight = new Map<string, Promise<Verdict>>();
  const perClient = new Map<string, number>();

  async function verify(key: string, password: string, hash: string, known: boolean): Promise<Verdict> {
    let match: boolean;
    try {
      match = await comparer.compare(password, hash);
    } catch {
      return 'denied';
    }
    const ok = known && match;
    (ok ? allowed : denied).add(key);
    return ok ? 'ok' : 'denied';
  }

  function release(client: string): void {
    const n = (perClient.get(client) ?? 1) - 1;
    if (n > 0) perClient.set(client, n);
    else perClient.delete(client);
  }

  function enqueue(key: string, password: string, hash: string, known: boolean, client: string): Promise<Verdict> {
    const mine = perClient.get(client) ?? 0;
    if (inflight.size >= maxQueued || mine >= maxPerClient) return Promise.resolve('busy');
    perClient.set(client, mine + 1);
    const verdict = verify(key, password, hash, known).finally(() => {
      inflight.delete(key);
      release(client);
    });
    inflight.set(key, verdict);
    return verdict;
  }

  function check(authorization: string | undefined, client: string): Promise<Verdict> {
    const creds = parseBasic(authorization);
    if (!creds) return Promise.resolve('denied');
    const known = hashes.get(creds.user);
    const hash = known ?? dummy;
    // Salted by the bcrypt hash's salt; the password itself is never kept.
    const key = createHash('sha256').update(JSON.stringify([creds.user, hash, creds.password])).digest('hex');
    if (allowed.has(key)) return Promise.resolve('ok');
    if (denied.has(key)) return Promise.resolve('denied');
    return inflight.get(key) ?? enqueue(key, creds.password, hash, known !== undefined, client);
  }

  return { check, close: () => comparer.close() };
}
