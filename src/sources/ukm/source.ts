import { blockListOf, type UkmEndpoint, type UkmRegisterConfig, type UkmSourceConfig } from '../../config/schema.js';
import type { VendorHttp } from '../../http/client.js';
import type { Logger } from '../../log.js';
import type { ProbeContext, ProbeResult, RegisterReading, RegisterSummary, ResolvedTarget, Sample, Source, TargetLookup } from '../source.js';
import { parseUkmAnswer } from './parse.js';
import type { EndpointOutcome, UkmRegisterPool } from './reads.js';

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
  /** Endpoint URLs per register base URL, built once rather than per request. */
  private readonly urls = new Map<string, Map<UkmEndpoint, string>>();

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
    const readings = await Promise.all(registers.map((r) => this.readRegister(r, ctx)));
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

  private async readRegister(register: UkmRegisterConfig, ctx: ProbeContext): Promise<RegisterReading> {
    const { http, pool } = this.deps;
    const requestTimeout = this.config.request_timeout;
    const outcomes = await pool.read(register.url, {
      endpoints: this.config.endpoints,
      deadline: ctx.deadline,
      intervalMs: this.config.min_interval,
      onWait: (ms) => http.observer.rateLimitWait(this.name, ms / 1000),
      fetch: (endpoint, signal) =>
        http.send(endpoint, { method: 'GET', url: this.endpointUrl(register.url, endpoint), signal, maxBytes: UKM_MAX_BODY_BYTES, timeoutMs: requestTimeout }),
    });
    return this.toReading(register, outcomes, ctx.log.child({ kkt: register.name }));
  }

  private endpointUrl(base: string, endpoint: UkmEndpoint): string {
    let byEndpoint = this.urls.get(base);
    if (!byEndpoint) this.urls.set(base, (byEndpoint = new Map()));
    let url = byEndpoint.get(endpoint);
    if (!url) byEndpoint.set(endpoint, (url = ukmEndpointUrl(base, endpoint)));
    return url;
  }

  private toReading(register: UkmRegisterConfig, outcomes: Map<UkmEndpoint, EndpointOutcome>, log: Logger): RegisterReading {
    const samples: Sample[] = [];
    const endpoints = [];
    const failures: string[] = [];
    for (const [endpoint, outcome] of outcomes) {
      let error = outcome.ok ? undefined : outcome.error;
      if (outcome.ok) {
        try {
          for (const s of parseUkmAnswer(endpoint, outcome.status, outcome.body, this.deps.timezone)) {
            if (!samples.some((x) => x.metric === s.metric)) samples.push(s);
          }
        } catch (err) {
          error = (err as Error).message;
        }
      }
      endpoints.push({ endpoint, success: error === undefined });
      if (error !== undefined) failures.push(`${endpoint}: ${error}`);
    }
    const up = endpoints.some((e) => e.success);
    if (failures.length > 0) {
      log.warn(up ? 'register read incomplete' : 'register unreachable', { url: register.url, failed: failures.join('; ') });
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
