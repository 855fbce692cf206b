import type { UkmEndpoint } from '../../config/schema.js';
import { remainingMs, settleBy, type Deadline } from '../../http/deadline.js';
import { GateDeadlineError, GateRegistry, type RateGate } from '../../http/rate-gate.js';
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

  constructor(private readonly gate: RateGate, private readonly req: ReadRequest) {
    this.deadline = req.deadline;
    this.armTimer();
    this.done = this.run().finally(() => clearTimeout(this.timer));
  }

  joinable(endpoints: readonly UkmEndpoint[]): boolean {
    return !this.controller.signal.aborted && endpoints.every((e) => this.req.endpoints.includes(e));
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
      try {
        const res = await this.gate.run(() => this.req.fetch(endpoint, signal), {
          intervalMs: this.req.intervalMs,
          deadline: () => this.deadline,
          signal,
          onWait: this.req.onWait,
        });
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
  private readonly inflight = new Map<string, SharedRead>();

  /** What each of `req.endpoints` answered by `req.deadline`; the rest are reported as cut off. */
  async read(baseUrl: string, req: ReadRequest): Promise<Map<UkmEndpoint, EndpointOutcome>> {
    let read = this.inflight.get(baseUrl);
    if (read?.joinable(req.endpoints)) {
      read.extend(req.deadline);
    } else {
      const created = new SharedRead(this.gates.get(new URL(baseUrl).origin), req);
      this.inflight.set(baseUrl, created);
      void created.done.then(() => {
        if (this.inflight.get(baseUrl) === created) this.inflight.delete(baseUrl);
      });
      read = created;
    }
    await settleBy(read.done, req.deadline);
    return new Map(req.endpoints.map((e) => [e, read.outcomes.get(e) ?? { ok: false, error: CUT_OFF }]));
  }

  get readsInFlight(): number {
    return this.inflight.size;
  }
}
