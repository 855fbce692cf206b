import type { UkmEndpoint } from './config.js';
import type { Deadline } from '../../deadline/deadline.js';
import { GateRegistry, type GateUser, type RateGate } from './rate-gate.js';
import { TransportError, type HttpResponse } from '../../http/transport.js';
import { HostAddresses, type Address } from '../../http/host-addresses.js';
import { errorMessage } from '../../log.js';
import type { Sample } from '../../readings/reading.js';
import { SharedRead, SharedReads } from '../shared-read.js';
import { MAX_AD_HOC_TARGETS } from '../source.js';
import { addressKeysAt, type AddressKeys, type RegisterPlace } from './address.js';

/** What one endpoint gave: its samples, or why it gave none. */
export type EndpointOutcome = { ok: true; samples: Sample[] } | { ok: false; error: string };

/** How a scrape reads its registers: one object for all of them. */
export interface ReadRequest {
  endpoints: readonly UkmEndpoint[];
  deadline: Deadline;
  intervalMs: number;
  fetch: (url: string, endpoint: UkmEndpoint, signal: AbortSignal) => Promise<HttpResponse>;
  /** The samples of an answer, offset-less times read in `zone`; throws when the answer is not one the endpoint sends. */
  parse: (endpoint: UkmEndpoint, status: number, body: string, zone: string) => Sample[];
  onWait: (ms: number) => void;
}

/** One register as a read needs it: its endpoints' URLs, and the time zone of its offset-less times. */
export interface ReadTarget {
  urls: ReadonlyMap<UkmEndpoint, string>;
  zone: string;
  /** Where its URL points. */
  place: RegisterPlace;
  /** Its keys when they need no DNS (an IP address, or a host a proxy resolves); else the pool resolves `place.host`. */
  keys?: AddressKeys;
  /** A `/probe` target not in the config: its state is among the MAX_AD_HOC_TARGETS kept. */
  adHoc: boolean;
  /** The pool's last resolution of `place.host`, and the keys it gave. */
  resolved?: { address: Address; keys: AddressKeys };
}

const CUT_OFF = 'not read: the scrape deadline came first';
const CUT_OFF_OUTCOME: EndpointOutcome = { ok: false, error: CUT_OFF };
/** The outcome of the endpoints after one that found the register gone. */
export const SKIPPED = 'not read: the register did not answer an earlier endpoint';
/** Ad-hoc targets still in use looked past, at most, per read, to find those whose state may go. */
const EVICTION_TRIES = 8;

/** After these, the register is not there: asking its other endpoints would only spend the budget. */
function unreachable(err: unknown): boolean {
  return err instanceof TransportError && (err.failure === 'refused' || err.failure === 'timeout');
}

/**
 * One pass over a register's endpoints, in order, through its rate gate. Scrapes that arrive while
 * it runs join it instead of queueing their own; it keeps going while any of them still has time,
 * with the request of the latest: its source's transport, open while that scrape waits (a reload
 * closes the old one when its scrapes end). It is given again while fresh only when every endpoint
 * has the register's own answer, or its failure to give one: not when a deadline cut it short.
 * A small state machine driven by the gate's callbacks: nothing is held across the waits but this.
 */
class RegisterRead extends SharedRead<ReadRequest> implements GateUser {
  readonly outcomes = new Map<UkmEndpoint, EndpointOutcome>();
  /** What every scrape that shares this read gets. */
  readonly result = new ReadOutcomes(this);
  readonly done: Promise<void>;
  readonly intervalMs: number;
  /** A configured register made or shared this read: the ad-hoc bound never drops it. */
  configured = false;
  private index = 0;
  private finished!: () => void;

  constructor(
    private readonly gate: RateGate,
    private readonly target: ReadTarget,
    private readonly req: ReadRequest,
  ) {
    super(req.deadline, req);
    this.intervalMs = req.intervalMs;
    this.done = new Promise<void>((resolve) => (this.finished = resolve));
    this.gate.acquire(this);
  }

  /** It reads every endpoint `req` asks for. */
  override serves(req: ReadRequest): boolean {
    return req.endpoints.every((e) => this.req.endpoints.includes(e));
  }

  deadline(): number {
    return this.shared.deadline.at;
  }

  onWait(ms: number): void {
    this.req.onWait(ms);
  }

  onSlot(): void {
    const signal = this.shared.signal;
    if (signal.aborted) {
      this.gate.release();
      return this.stop(CUT_OFF);
    }
    let answer: Promise<HttpResponse>;
    try {
      const endpoint = this.endpoint;
      answer = this.shared.value.fetch(this.target.urls.get(endpoint) as string, endpoint, signal);
    } catch (err) {
      // A throw here would otherwise hold the register's gate for good.
      return this.onFailure(err);
    }
    answer.then(this.onAnswer, this.onFailure);
  }

  onRefused(): void {
    this.stop(CUT_OFF);
  }

  private get endpoint(): UkmEndpoint {
    return this.req.endpoints[this.index] as UkmEndpoint;
  }

  /** Parsed as it comes, in the idle second before the next request, not all at the scrape's end. */
  private readonly onAnswer = (res: HttpResponse): void => {
    this.gate.release();
    const endpoint = this.endpoint;
    try {
      this.outcomes.set(endpoint, { ok: true, samples: this.req.parse(endpoint, res.status, res.body.toString('utf8'), this.target.zone) });
    } catch (err) {
      this.outcomes.set(endpoint, { ok: false, error: errorMessage(err) });
    }
    this.advance();
  };

  private readonly onFailure = (err: unknown): void => {
    this.gate.release();
    this.outcomes.set(this.endpoint, { ok: false, error: errorMessage(err) });
    if (this.shared.signal.aborted) return this.stop(CUT_OFF);
    if (unreachable(err)) return this.stop(SKIPPED);
    this.advance();
  };

  private advance(): void {
    if (++this.index < this.req.endpoints.length) this.gate.acquire(this);
    else this.finish();
  }

  /** Ends the read early: the endpoints not yet answered get `why`. */
  private stop(why: string): void {
    for (const e of this.req.endpoints) if (!this.outcomes.has(e)) this.outcomes.set(e, { ok: false, error: why });
    this.finish(why !== CUT_OFF);
  }

  private finish(reusable = true): void {
    this.end(reusable);
    this.finished();
  }
}

/** What a read gave by the caller's deadline; an endpoint it had not reached by then was cut off. */
export class ReadOutcomes {
  constructor(private readonly read: { outcomes: ReadonlyMap<UkmEndpoint, EndpointOutcome>; endedAt: number | undefined }) {}

  /** The read is over: what it gave will not change any more. */
  get complete(): boolean {
    return this.read.endedAt !== undefined;
  }

  of(endpoint: UkmEndpoint): EndpointOutcome {
    return this.read.outcomes.get(endpoint) ?? CUT_OFF_OUTCOME;
  }
}

/** A read that never reached the register: the first endpoint says why, the others were skipped after it. */
function failedBeforeSending(error: string, endpoints: readonly UkmEndpoint[]): ReadOutcomes {
  const outcomes = new Map<UkmEndpoint, EndpointOutcome>(endpoints.map((e, i) => [e, { ok: false, error: i === 0 ? error : SKIPPED }]));
  return new ReadOutcomes({ outcomes, endedAt: performance.now() });
}

/** What a scrape whose deadline came while the register's address was being looked up gets. */
const NOT_READ = new ReadOutcomes({ outcomes: new Map(), endedAt: undefined });

/**
 * The process-wide state of every UKM register the exporter reaches: one rate gate per register
 * address, keyed by where its requests go (scheme, resolved address, port), and the read in flight
 * per address and base path; so a register has one gate and one read whatever names the config and
 * `/probe` targets give it, across reloads. Every source, config generation, `/metrics` and `/probe` request goes
 * through the same pool. The state of targets not in the config is bounded: the last
 * MAX_AD_HOC_TARGETS of them, plus any whose gate still guards its register.
 */
export class UkmRegisterPool {
  readonly gates = new GateRegistry();
  /** Host names of registers, resolved once per HOST_ADDRESS_TTL_MS; the transports connect through the same cache. */
  readonly addresses: HostAddresses;
  /** The read in flight, or the last one, per register address and base path. */
  private readonly reads = new SharedReads<string, ReadRequest, RegisterRead>();
  /** The keys read for ad-hoc targets, least recently read first. */
  private readonly adHoc = new Map<string, AddressKeys>();

  constructor(addresses = new HostAddresses()) {
    this.addresses = addresses;
  }

  /** How much per-register state the pool holds, for tests and the soak. */
  get sizes(): { gates: number; reads: number; adHoc: number; hosts: number } {
    return { gates: this.gates.size, reads: this.reads.size, adHoc: this.adHoc.size, hosts: this.addresses.size };
  }

  /**
   * What each of `req.endpoints` answered by `req.deadline`; the rest are reported as cut off.
   * A scrape joins the read in flight. One that comes sooner after a finished read than the
   * register may be asked again gets that read's answers, failures included (at most `intervalMs`
   * old), instead of queueing at the gate: asked faster than once per interval, requests would pile
   * up forever. Only a read the deadline cut short is read again, for the endpoints it did not reach.
   * A register named by a host name waits for its address only the first time (and when it did not resolve).
   */
  read(target: ReadTarget, req: ReadRequest): Promise<ReadOutcomes> {
    const keys = target.keys ?? this.resolvedKeys(target);
    if (!(keys instanceof Promise)) return this.readAt(keys, target, req);
    const read = keys.then(
      (k) => (req.deadline.signal.aborted ? NOT_READ : this.readAt(k, target, req)),
      (err: unknown) => failedBeforeSending(errorMessage(err), req.endpoints),
    );
    return Promise.race([read, req.deadline.reached.then(() => NOT_READ)]);
  }

  private resolvedKeys(target: ReadTarget): AddressKeys | Promise<AddressKeys> {
    const address = this.addresses.addressOf(target.place.host);
    if (address instanceof Promise) return address.then((a) => this.keysAt(target, a));
    return this.keysAt(target, address);
  }

  private keysAt(target: ReadTarget, address: Address): AddressKeys {
    if (target.resolved?.address !== address) target.resolved = { address, keys: addressKeysAt(target.place, address.address) };
    return target.resolved.keys;
  }

  private readAt(keys: AddressKeys, target: ReadTarget, req: ReadRequest): Promise<ReadOutcomes> {
    const read =
      this.reads.share(keys.read, req.deadline, req, req.intervalMs) ??
      this.reads.start(keys.read, new RegisterRead(this.gates.get(keys.gate), target, req));
    if (target.adHoc) this.touchAdHoc(keys);
    else read.configured = true;
    const { result } = read;
    if (result.complete) return Promise.resolve(result);
    return Promise.race([read.done, req.deadline.reached]).then(() => result);
  }

  /** Marks `keys` the most recently read ad-hoc target, and lets the state of the least recent go. */
  private touchAdHoc(keys: AddressKeys): void {
    this.adHoc.delete(keys.read);
    this.adHoc.set(keys.read, keys);
    for (let inUse = 0; this.adHoc.size > MAX_AD_HOC_TARGETS && inUse < EVICTION_TRIES; ) {
      const [readKey, oldest] = this.adHoc.entries().next().value as [string, AddressKeys];
      this.adHoc.delete(readKey);
      if (this.forget(oldest)) continue;
      this.adHoc.set(readKey, oldest); // still in use: it counts as recent
      inUse++;
    }
  }

  /** Drops an ad-hoc target's read and gate unless they are in use; true when nothing of it is left to bound. */
  private forget(keys: AddressKeys): boolean {
    const read = this.reads.get(keys.read);
    if (read?.configured) return true; // a configured register's state now, not the ad-hoc target's
    if (read && read.endedAt === undefined) return false;
    if (!this.gates.dropQuiet(keys.gate)) return false;
    this.reads.delete(keys.read);
    return true;
  }
}
