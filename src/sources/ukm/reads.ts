import type { UkmEndpoint } from '../../config/schema.js';
import { remainingMs, settleBy, type Deadline } from '../../http/deadline.js';
import { GateDeadlineError, GateRegistry, type GateRunOptions, type RateGate } from '../../http/rate-gate.js';
import { TransportError, type HttpResponse } from '../../http/transport.js';
import { errorMessage } from '../../log.js';

export type EndpointOutcome = { ok: true; status: number; body: string } | { ok: false; error: string };

export interface ReadRequest {
  endpoints: readonly UkmEndpoint[];
  deadline: Deadline;
  intervalMs: number;
  fetch: (endpoint: UkmEndpoint, signal: AbortSignal) => Promise<HttpResponse>;
  onWait: (ms: number) => void;
}

const CUT_OFF = 'not read: the scrape deadline came first';
const SKIPPED = 'not read: the register did not answer an earlier endpoint';
/** Finished reads are swept out of the pool after this many new ones. */
const SWEEP_EVERY = 10_000;

/** After these, the register is not there: asking its other endpoints would only spend the budget. */
function unreachable(err: unknown): boolean {
  return err instanceof TransportError && (err.failure === 'refused' || err.failure === 'timeout');
}

/**
 * One pass over a register's endpoints, in order, through its rate gate. Scrapes that arrive while
 * it runs join it instead of queueing their own; it keeps going while any of them still has time.
 */
class SharedRead {
  readonly outcomes = new Map<UkmEndpoint, EndpointOutcome>();
  readonly done: Promise<void>;
  private deadline: Deadline;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** When the read finished (performance.now()), or undefined while it runs. */
  endedAt: number | undefined;
  /** The endpoint being read; one closure and one options object per read, not per request. */
  private current: UkmEndpoint | undefined;
  private readonly fetchCurrent = () => this.req.fetch(this.current as UkmEndpoint, this.controller.signal);
  private readonly gateOptions: GateRunOptions;

  constructor(private readonly gate: RateGate, private readonly req: ReadRequest) {
    this.deadline = req.deadline;
    this.gateOptions = { intervalMs: req.intervalMs, deadline: () => this.deadline, signal: this.controller.signal, onWait: req.onWait };
    this.armTimer();
    this.done = this.run().finally(() => {
      clearTimeout(this.timer);
      this.endedAt = performance.now();
    });
  }

  covers(endpoints: readonly UkmEndpoint[]): boolean {
    return endpoints.every((e) => this.req.endpoints.includes(e));
  }

  joinable(endpoints: readonly UkmEndpoint[]): boolean {
    return !this.controller.signal.aborted && this.covers(endpoints);
  }

  /** Finished so recently that the register may not be asked again yet, and read completely. */
  freshFor(endpoints: readonly UkmEndpoint[], intervalMs: number): boolean {
    return this.endedAt !== undefined && performance.now() - this.endedAt < intervalMs && this.covers(endpoints) && endpoints.every((e) => this.outcomes.get(e)?.ok);
  }

  extend(deadline: Deadline): void {
    if (deadline <= this.deadline) return;
    this.deadline = deadline;
    this.armTimer();
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new Error('scrape deadline reached')), remainingMs(this.deadline));
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    for (const endpoint of this.req.endpoints) {
      this.current = endpoint;
      try {
        const res = await this.gate.run(this.fetchCurrent, this.gateOptions);
        this.outcomes.set(endpoint, { ok: true, status: res.status, body: res.body.toString('utf8') });
      } catch (err) {
        // Aborted while waiting for the gate: never sent. Aborted in flight: a TransportError says so.
        const cutOff = err instanceof GateDeadlineError || (signal.aborted && !(err instanceof TransportError));
        this.outcomes.set(endpoint, { ok: false, error: cutOff ? CUT_OFF : errorMessage(err) });
        if (err instanceof GateDeadlineError || signal.aborted) return;
        if (unreachable(err)) {
          for (const rest of this.req.endpoints) if (!this.outcomes.has(rest)) this.outcomes.set(rest, { ok: false, error: SKIPPED });
          return;
        }
      }
    }
  }
}

/**
 * The process-wide state of every UKM register the exporter reaches: one rate gate per register
 * (keyed by origin, i.e. the till) and the read in flight (keyed by base URL). Every source, config
 * generation, `/metrics` and `/probe` request goes through the same pool.
 */
export class UkmRegisterPool {
  readonly gates = new GateRegistry();
  /** The read in flight, or the last one, per register base URL. */
  private readonly reads = new Map<string, SharedRead>();
  private createdSinceSweep = 0;

  /**
   * What each of `req.endpoints` answered by `req.deadline`; the rest are reported as cut off.
   * A scrape joins the read in flight. One that comes sooner after a complete read than the
   * register may be asked again gets that read's answers (at most `intervalMs` old) instead of
   * queueing at the gate: asked faster than once per interval, requests would pile up forever.
   */
  async read(baseUrl: string, req: ReadRequest): Promise<Map<UkmEndpoint, EndpointOutcome>> {
    let read = this.reads.get(baseUrl);
    if (read?.joinable(req.endpoints) && read.endedAt === undefined) {
      read.extend(req.deadline);
    } else if (!read?.freshFor(req.endpoints, req.intervalMs)) {
      read = new SharedRead(this.gates.get(new URL(baseUrl).origin), req);
      this.reads.set(baseUrl, read);
      if (++this.createdSinceSweep >= SWEEP_EVERY) this.sweep();
    }
    await settleBy(read.done, req.deadline);
    const outcomes = read.outcomes;
    return new Map(req.endpoints.map((e) => [e, outcomes.get(e) ?? { ok: false, error: CUT_OFF }]));
  }

  /** Forgets finished reads of registers nobody asked about for a minute (ad-hoc /probe targets). */
  private sweep(): void {
    this.createdSinceSweep = 0;
    const before = performance.now() - 60_000;
    for (const [url, read] of this.reads) if (read.endedAt !== undefined && read.endedAt < before) this.reads.delete(url);
  }
}
