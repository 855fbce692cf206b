import type { IncomingMessage, ServerResponse } from 'node:http';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { timezone as ianaTimezone } from '../config/schema.js';
import { UKM_ENDPOINTS, type UkmEndpoint } from '../sources/ukm/config.js';
import { unixSeconds, wholeNumber } from './control.js';
import { SIM_FAULTS, SimServer, type SimFault } from './http.js';

export interface UkmRegisterState {
  paper: boolean;
  receiptOpen: boolean;
  /** Unix seconds of the last activity in the open receipt. */
  lastActivity: number;
  /** Unix seconds the last receipt was closed. */
  lastClosed: number;
  unsent: number;
  userRoleId: number;
  vision: boolean;
  weight: number;
}

/** How a register writes its bodies: the plugin's format is undocumented, so the fleet mixes them. */
export const UKM_BODY_FORMATS = ['text', 'json'] as const;
export type UkmBodyFormat = (typeof UKM_BODY_FORMATS)[number];

/** The longest `delay_ms` the control API takes: past any scrape deadline (the `latency` fault waits 30 s). */
export const MAX_UKM_DELAY_MS = 600_000;

/** `PATCH /ukm/NAME` of the fleet's control API: each key optional, an unknown one an error. */
export const ukmControlSchema = z.strictObject({
  fault: z.enum(SIM_FAULTS).nullable().optional(),
  delay_ms: wholeNumber(0, MAX_UKM_DELAY_MS).optional(),
  format: z.enum(UKM_BODY_FORMATS).optional(),
  /** The zone of the local times a text-format till sends. */
  timezone: ianaTimezone.optional(),
  state: z
    .strictObject({
      paper: z.boolean(),
      receiptOpen: z.boolean(),
      lastActivity: unixSeconds,
      lastClosed: unixSeconds,
      unsent: wholeNumber(0),
      userRoleId: wholeNumber(0),
      vision: z.boolean(),
      weight: z.number(),
    } satisfies Record<keyof UkmRegisterState, z.ZodType>)
    .partial()
    .optional(),
});
export type UkmControl = z.output<typeof ukmControlSchema>;

export interface UkmRegisterSpec {
  name: string;
  state?: Partial<UkmRegisterState>;
  /** A fault from the simulator's fault matrix; `refused` is a powered-off register. */
  fault?: SimFault;
  format?: UkmBodyFormat;
  labels?: Record<string, string>;
  /** The register's own zone for the local times it sends, when not the fleet's (a chain spans zones). */
  timezone?: string;
}

export interface RateViolation {
  register: string;
  endpoint: string;
  gapMs: number;
}

const PATH_RE = /^\/api\/v1\/status\/([a-z_]+)$/;

function defaultState(now: number): UkmRegisterState {
  return { paper: true, receiptOpen: false, lastActivity: now - 30, lastClosed: now - 300, unsent: 0, userRoleId: 1, vision: true, weight: 0 };
}

/** One simulated UKM 5 register on its own loopback origin, recording when every request arrived. */
export class SimulatedUkmRegister {
  readonly server = new SimServer((req, res) => this.handle(req, res));
  state: UkmRegisterState;
  format: UkmBodyFormat;
  readonly labels: Record<string, string>;
  requests = 0;
  readonly byEndpoint = new Map<string, number>();
  /** Requests with any method but GET: the exporter must never send one. */
  nonGetRequests = 0;
  readonly violations: RateViolation[] = [];
  private lastArrival: number | undefined;

  /** The register's own zone: the local times a text-format register sends are on its clock. */
  timezone: string;

  constructor(readonly name: string, spec: UkmRegisterSpec, fleetTimezone: string, private readonly minIntervalMs: number) {
    this.timezone = spec.timezone ?? fleetTimezone;
    this.state = { ...defaultState(Math.floor(Date.now() / 1000)), ...spec.state };
    this.server.fault = spec.fault;
    this.server.onArrival = (req) => this.record(req);
    this.format = spec.format ?? 'text';
    this.labels = spec.labels ?? {};
  }

  get url(): string {
    return this.server.url;
  }

  get hostPort(): string {
    return this.server.hostPort;
  }

  listen(host: string): Promise<void> {
    return this.server.listen(host);
  }

  get fault(): SimFault | undefined {
    return this.server.fault;
  }

  setFault(fault: SimFault | undefined): Promise<void> {
    return this.server.setFault(fault);
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  /** Applies a checked `PATCH /ukm/NAME`; the register as the control API shows it. */
  async control(body: UkmControl): Promise<object> {
    if (body.delay_ms !== undefined) this.server.delayMs = body.delay_ms;
    if (body.fault !== undefined) await this.setFault(body.fault ?? undefined);
    if (body.format !== undefined) this.format = body.format;
    if (body.timezone !== undefined) this.timezone = body.timezone;
    if (body.state) this.state = { ...this.state, ...body.state };
    return this.view();
  }

  /** What `GET /ukm` and `PATCH /ukm/NAME` show of the register. */
  view(): object {
    return { name: this.name, url: this.url, fault: this.fault ?? null, delay_ms: this.server.delayMs, format: this.format, timezone: this.timezone, state: this.state, requests: this.requests };
  }

  private record(req: IncomingMessage): void {
    const endpoint = PATH_RE.exec(req.url ?? '')?.[1] || (req.url ?? '');
    if (req.method !== 'GET') this.nonGetRequests++;
    const now = performance.now();
    this.requests++;
    this.byEndpoint.set(endpoint, (this.byEndpoint.get(endpoint) ?? 0) + 1);
    if (this.lastArrival !== undefined && now - this.lastArrival < this.minIntervalMs) {
      this.violations.push({ register: this.name, endpoint, gapMs: now - this.lastArrival });
    }
    this.lastArrival = now;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const endpoint = PATH_RE.exec(req.url ?? '')?.[1] ?? '';
    if (req.method !== 'GET' || !(UKM_ENDPOINTS as readonly string[]).includes(endpoint)) {
      res.writeHead(404).end();
      return;
    }
    this.answer(endpoint as UkmEndpoint, res);
  }

  private time(seconds: number): string | { time: string } {
    const dt = DateTime.fromSeconds(seconds, { zone: this.timezone });
    // Text registers send local time without an offset; JSON ones an ISO time with offset.
    return this.format === 'text' ? dt.toFormat('yyyy-MM-dd HH:mm:ss') : { time: dt.toISO({ suppressMilliseconds: true }) ?? '' };
  }

  private send(res: ServerResponse, status: 200 | 204, value?: string | number | object): void {
    if (status === 204 || value === undefined) {
      res.writeHead(status).end();
      return;
    }
    if (this.format === 'json') {
      const json = typeof value === 'object' ? value : { value };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(String(value));
    }
  }

  private answer(endpoint: UkmEndpoint, res: ServerResponse): void {
    const s = this.state;
    switch (endpoint) {
      case 'paper':
        return this.send(res, s.paper ? 200 : 204);
      case 'vision':
        return this.send(res, s.vision ? 200 : 204);
      case 'ofd':
        return this.send(res, 200, s.unsent);
      case 'user_role_id':
        return this.send(res, 200, s.userRoleId);
      case 'last_receipt_time':
        return s.receiptOpen ? this.send(res, 200, this.time(s.lastActivity)) : this.send(res, 204);
      case 'downtime':
        return s.receiptOpen ? this.send(res, 204) : this.send(res, 200, this.time(s.lastClosed));
      case 'weight':
        return s.receiptOpen ? this.send(res, 204) : this.send(res, 200, s.weight);
    }
  }
}

/** The zone of the simulated registers' offset-less times when the fleet names none. */
export const FLEET_TIMEZONE = 'Europe/Moscow';

export interface UkmSimulatorOptions {
  timezone?: string;
  host?: string;
  minIntervalMs?: number;
}

/** A fleet of simulated UKM registers, each on its own port. */
export class UkmSimulator {
  readonly registers: SimulatedUkmRegister[] = [];
  private readonly byName = new Map<string, SimulatedUkmRegister>();

  private constructor() {}

  static async start(specs: readonly UkmRegisterSpec[], opts: UkmSimulatorOptions = {}): Promise<UkmSimulator> {
    const sim = new UkmSimulator();
    for (const spec of specs) {
      const reg = new SimulatedUkmRegister(spec.name, spec, opts.timezone ?? FLEET_TIMEZONE, opts.minIntervalMs ?? 1000);
      sim.registers.push(reg);
      sim.byName.set(spec.name, reg);
    }
    await Promise.all(sim.registers.map((r) => r.listen(opts.host ?? '127.0.0.1')));
    // A register that starts refusing is bound first so its port is reserved, then closed.
    await Promise.all(sim.registers.filter((r) => r.fault === 'refused').map((r) => r.stop()));
    return sim;
  }

  get(name: string): SimulatedUkmRegister | undefined {
    return this.byName.get(name);
  }

  get violations(): RateViolation[] {
    return this.registers.flatMap((r) => r.violations);
  }

  get requests(): number {
    return this.registers.reduce((n, r) => n + r.requests, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.registers.map((r) => r.stop()));
  }
}
