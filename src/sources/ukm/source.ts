import { blockListOf, type UkmEndpoint, type UkmRegisterConfig, type UkmSourceConfig } from '../../config/schema.js';
import type { VendorHttp } from '../../http/client.js';
import type { Logger } from '../../log.js';
import type { ProbeContext, ProbeResult, RegisterReading, RegisterSummary, ResolvedTarget, Sample, Source, TargetLookup } from '../source.js';
import { parseUkmAnswer } from './parse.js';
import type { ReadOutcomes, ReadRequest, UkmRegisterPool } from './reads.js';

/** UKM answers are a few bytes; anything near this is not a UKM answer. */
export const UKM_MAX_BODY_BYTES = 64 * 1024;

export interface UkmSourceDeps {
  http: VendorHttp;
  pool: UkmRegisterPool;
  timezone: string;
}

function hostPort(url: string): string {
  return new URL(url).host;
}

export function ukmEndpointUrl(baseUrl: string, endpoint: UkmEndpoint): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(`api/v1/status/${endpoint}`, base).href;
}

/** UKM 5 registers, each polled directly over its monitoring plugin's API (vendor-apis.md section 1). */
export class UkmSource implements Source {
  readonly type = 'ukm' as const;
  private readonly allowed;
  /** Endpoint URLs per register, built once rather than per request (weak: ad-hoc targets come and go). */
  private readonly urls = new WeakMap<UkmRegisterConfig, Map<UkmEndpoint, string>>();
  /** The reading made of a finished read, for the other scrapes that shared it (an HA pair). */
  private readonly readings = new WeakMap<ReadOutcomes, RegisterReading>();

  constructor(readonly config: UkmSourceConfig, private readonly deps: UkmSourceDeps) {
    this.allowed = blockListOf(config.allowed_targets);
  }

  get name(): string {
    return this.config.name;
  }

  get timeoutSeconds(): number {
    return (this.config.timeout ?? 0) / 1000;
  }

  registers(): RegisterSummary[] {
    return this.config.registers.map((r) => ({ kkt: r.name, detail: r.url }));
  }

  /** A register's name or its `host:port`; an unconfigured `ip:port` only inside `allowed_targets`. */
  lookup(target: string): TargetLookup {
    const known = this.config.registers.find((r) => r.name === target) ?? this.config.registers.find((r) => hostPort(r.url) === target);
    if (known) return { ok: true, target: { kkt: known.name, ref: known } };
    const adHoc = parseHostPort(target);
    if (!adHoc && /^[a-zA-Z0-9.-]+:\d{1,5}$/.test(target)) {
      return { ok: false, status: 403, message: `target "${target}" is not in the config, and unconfigured targets must be an IP address inside allowed_targets` };
    }
    if (!adHoc) return { ok: false, status: 400, message: `unknown target "${target}": not a register of source "${this.name}" nor host:port` };
    const family = adHoc.ip.includes(':') ? 'ipv6' : 'ipv4';
    if (!this.allowed.check(adHoc.ip, family)) {
      return { ok: false, status: 403, message: `target "${target}" is not in the config and not in allowed_targets of source "${this.name}"` };
    }
    const register: UkmRegisterConfig = { name: target, url: `http://${target}`, labels: {} };
    return { ok: true, target: { kkt: register.name, ref: register } };
  }

  async probe(ctx: ProbeContext, target?: ResolvedTarget): Promise<ProbeResult> {
    const started = performance.now();
    const registers = target ? [target.ref as UkmRegisterConfig] : this.config.registers;
    const request = this.readRequest(ctx);
    const readings = await Promise.all(registers.map((r) => this.readRegister(r, request, ctx)));
    return {
      source: this.name,
      success: readings.every((r) => r.up),
      durationSeconds: (performance.now() - started) / 1000,
      registers: readings,
    };
  }

  close(): Promise<void> {
    return this.deps.http.close();
  }

  private readRequest(ctx: ProbeContext): ReadRequest {
    const { http, timezone } = this.deps;
    const timeoutMs = this.config.request_timeout;
    return {
      endpoints: this.config.endpoints,
      deadline: ctx.deadline,
      intervalMs: this.config.min_interval,
      onWait: (ms) => http.observer.rateLimitWait(this.name, ms / 1000),
      fetch: (url, endpoint, signal) => http.send(endpoint, { method: 'GET', url, signal, maxBytes: UKM_MAX_BODY_BYTES, timeoutMs }),
      parse: (endpoint, status, body) => parseUkmAnswer(endpoint, status, body, timezone),
    };
  }

  private async readRegister(register: UkmRegisterConfig, request: ReadRequest, ctx: ProbeContext): Promise<RegisterReading> {
    const outcomes = await this.deps.pool.read(register.url, this.urlsOf(register), request);
    let reading = this.readings.get(outcomes);
    if (!reading) {
      reading = this.toReading(register, outcomes, ctx.log);
      if (outcomes.complete) this.readings.set(outcomes, reading);
    }
    ctx.onReading?.(reading);
    return reading;
  }

  private urlsOf(register: UkmRegisterConfig): Map<UkmEndpoint, string> {
    let urls = this.urls.get(register);
    if (!urls) this.urls.set(register, (urls = new Map(this.config.endpoints.map((e) => [e, ukmEndpointUrl(register.url, e)]))));
    return urls;
  }

  private toReading(register: UkmRegisterConfig, outcomes: ReadOutcomes, log: Logger): RegisterReading {
    const samples: Sample[] = [];
    const endpoints = [];
    const failures: string[] = [];
    for (const endpoint of this.config.endpoints) {
      const outcome = outcomes.of(endpoint);
      endpoints.push({ endpoint, success: outcome.ok });
      if (!outcome.ok) failures.push(`${endpoint}: ${outcome.error}`);
      // Both receipt endpoints give kkt_receipt_open; the first one read wins.
      else for (const s of outcome.samples) if (!samples.some((x) => x.metric === s.metric)) samples.push(s);
    }
    const up = endpoints.some((e) => e.success);
    if (failures.length > 0) {
      const message = up ? 'register read incomplete' : 'register unreachable';
      log.warn(message, { kkt: register.name, url: register.url, failed: failures.join('; ') });
    }
    return { kkt: register.name, labels: register.labels, up, info: { url: register.url }, samples, endpoints };
  }
}

/** `ip:port` or `[ipv6]:port`, nothing else: no scheme, path, credentials or host names. */
function parseHostPort(target: string): { ip: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const ip = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  try {
    // URL parsing rejects octets over 255 and malformed IPv6.
    const host = new URL(`http://${target}`).hostname;
    if (host !== ip && host !== `[${ip}]`) return undefined;
  } catch {
    return undefined;
  }
  return { ip, port };
}
