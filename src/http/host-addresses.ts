import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

/** How long a resolved address is used before it is looked up again (in the background, the old one serving meanwhile). */
export const HOST_ADDRESS_TTL_MS = 60_000;
/** How long a failed lookup is remembered: a flood of reads of a name that does not resolve asks the resolver once. */
export const HOST_FAILURE_TTL_MS = 5_000;
/** Host names kept; they come from the config, so this is only a backstop across many reloads. */
export const MAX_HOSTS = 10_000;

export interface Address {
  address: string;
  family: 4 | 6;
}

/** The host name did not resolve: the read fails as a refused connection does, saying why. */
export class ResolveError extends Error {
  constructor(host: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message ?? String(cause);
    super(`cannot resolve host "${host}": ${code}`);
    this.name = 'ResolveError';
  }
}

interface Entry {
  /** The last good address; kept when a later lookup fails (a resolver outage is not a register outage). */
  address?: Address;
  error?: ResolveError;
  /** performance.now() after which the entry is looked up again. */
  expiresAt: number;
  pending?: Promise<Address>;
}

export type ResolveHost = (host: string) => Promise<Address>;

const systemResolve: ResolveHost = async (host) => {
  const { address, family } = await dnsLookup(host);
  return { address, family: family === 6 ? 6 : 4 };
};

/**
 * Host names resolved once and cached for the whole process, so that state keyed by address (a
 * register's rate gate) and the connection that carries the request agree on where it goes: the
 * transport connects through `lookup`, which answers from the same cache. IP literals never come
 * here (net.connect does not look them up, and the register pool keys them as they are).
 */
export class HostAddresses {
  private readonly hosts = new Map<string, Entry>();

  constructor(
    private readonly resolveHost: ResolveHost = systemResolve,
    private readonly ttlMs = HOST_ADDRESS_TTL_MS,
    private readonly failureTtlMs = HOST_FAILURE_TTL_MS,
    private readonly maxHosts = MAX_HOSTS,
  ) {}

  get size(): number {
    return this.hosts.size;
  }

  /** The host's address now when one is known (a stale one is refreshed behind it), else a promise of it. */
  addressOf(host: string): Address | Promise<Address> {
    const entry = this.hosts.get(host);
    if (!entry) return this.refresh(host, this.add(host));
    const stale = performance.now() >= entry.expiresAt;
    if (entry.address) {
      if (stale && !entry.pending) void this.refresh(host, entry).catch(() => {});
      return entry.address;
    }
    if (entry.pending) return entry.pending;
    return stale || !entry.error ? this.refresh(host, entry) : Promise.reject(entry.error);
  }

  /** net.connect's `lookup`: the cached address, so a connection goes where the keys say. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const answer = (a: Address) => {
      if (options.all) (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, [a]);
      else callback(null, a.address, a.family);
    };
    const found = this.addressOf(hostname);
    if (found instanceof Promise) found.then(answer, (err: Error) => callback(err, '', 0));
    else process.nextTick(answer, found);
  };

  private add(host: string): Entry {
    if (this.hosts.size >= this.maxHosts) {
      const oldest = this.hosts.keys().next();
      if (!oldest.done) this.hosts.delete(oldest.value);
    }
    const entry: Entry = { expiresAt: 0 };
    this.hosts.set(host, entry);
    return entry;
  }

  private refresh(host: string, entry: Entry): Promise<Address> {
    const pending = this.resolveHost(host).then(
      (address) => {
        Object.assign(entry, { address, error: undefined, pending: undefined, expiresAt: performance.now() + this.ttlMs });
        return address;
      },
      (err: unknown) => {
        const error = new ResolveError(host, err);
        Object.assign(entry, { error, pending: undefined, expiresAt: performance.now() + this.failureTtlMs });
        throw error;
      },
    );
    entry.pending = pending;
    return pending;
  }
}
