import { blockListOf } from '../../config/schema.js';
import { isTrading } from '../../config/trading-hours.js';
import { type UkmEndpoint, type UkmRegisterConfig, type UkmSourceConfig } from './config.js';
import type { SourceHttp } from '../../http/client.js';
import { OWNS_ALL, type SourceShard } from '../../shard.js';
import type { Logger } from '../../log.js';
import type { ReadContext, ProbeTarget, RegisterSummary, ResolvedTarget, Source, TargetLookup } from '../source.js';
import type { SourceReading, RegisterReading, Sample } from '../../readings/reading.js';
import { parseUkmAnswer } from './parse.js';
import { SKIPPED, type ReadOutcomes, type ReadRequest, type ReadTarget, type UkmRegisterPool } from './reads.js';
import { addressKeysAt, hostPortOf, parseHostPort, registerPlaceOf } from './address.js';

/** UKM answers are a few bytes; anything near this is not a UKM answer. */
export const UKM_MAX_BODY_BYTES = 64 * 1024;

export interface UkmSourceDeps {
  http: SourceHttp;
  pool: UkmRegisterPool;
  timezone: string;
  /** Which registers this process serves (`--shard`); default all. */
  shard?: SourceShard;
}

export function ukmEndpointUrl(baseUrl: string, endpoint: UkmEndpoint): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(`api/v1/status/${endpoint}`, base).href;
}

/** UKM 5 registers, each polled directly over its monitoring plugin's API (README, "How UKM registers are read"). */
export class UkmSource implements Source {
  readonly type = 'ukm' as const;
  private readonly allowed;
  /** Endpoint URLs per register, built once rather than per request (weak: ad-hoc targets come and go). */
  private readonly targets = new WeakMap<UkmRegisterConfig, ReadTarget>();
  /** The configured registers this shard serves. */
  private readonly owned: UkmRegisterConfig[];
  /** Configured registers by `host:port` as their URLs spell it (an IP address in one spelling), made at the first lookup. */
  private byHostPort: Map<string, UkmRegisterConfig> | undefined;

  constructor(readonly config: UkmSourceConfig, private readonly deps: UkmSourceDeps) {
    this.allowed = blockListOf(config.allowed_targets);
    this.owned = config.registers.filter((r) => this.shard.owns(r.name));
  }

  private get shard(): SourceShard {
    return this.deps.shard ?? OWNS_ALL;
  }

  get name(): string {
    return this.config.name;
  }

  get timeoutSeconds(): number {
    return (this.config.timeout ?? 0) / 1000;
  }

  registers(): RegisterSummary[] {
    return this.owned.map((r) => ({ kkt: r.name, detail: r.url, labels: r.labels }));
  }

  probeTargets(): ProbeTarget[] {
    return this.owned.map((r) => ({ kkt: r.name, labels: r.labels }));
  }

  /**
   * A register's name or its `host:port`; an unconfigured `ip:port` only inside `allowed_targets`.
   * An address is compared in one spelling, so `[::ffff:10.0.0.1]:80` is `10.0.0.1:80`.
   */
  lookup(target: string): TargetLookup {
    const found = this.find(target);
    if (found.ok && !this.shard.owns(found.target.kkt)) {
      return { ok: false, status: 400, message: `register "${found.target.kkt}" of source "${this.name}" belongs to shard ${this.shard.ownerOf(found.target.kkt)}: probe it there` };
    }
    return found;
  }

  private find(target: string): TargetLookup {
    const adHoc = parseHostPort(target);
    const known = this.config.registers.find((r) => r.name === target) ?? this.registerAt(adHoc?.host ?? target.toLowerCase());
    if (known) return { ok: true, target: { kkt: known.name, ref: known } };
    if (!adHoc && /^[a-zA-Z0-9.-]+:\d{1,5}$/.test(target)) {
      return { ok: false, status: 403, message: `target "${target}" is not in the config, and unconfigured targets must be an IP address inside allowed_targets` };
    }
    if (!adHoc) return { ok: false, status: 400, message: `unknown target "${target}": not a register of source "${this.name}" nor host:port` };
    if (!this.allowed.check(adHoc.ip, adHoc.family)) {
      return { ok: false, status: 403, message: `target "${target}" is not in the config and not in allowed_targets of source "${this.name}"` };
    }
    const register: UkmRegisterConfig = { name: target, url: `http://${adHoc.host}`, labels: {} };
    return { ok: true, target: { kkt: register.name, ref: register, adHoc: true } };
  }

  /** The first configured register whose URL spells `hostPort`. */
  private registerAt(hostPort: string): UkmRegisterConfig | undefined {
    if (!this.byHostPort) {
      this.byHostPort = new Map();
      for (const r of this.config.registers) {
        const place = registerPlaceOf(r.url);
        const key = hostPortOf(place.host, place.port);
        if (!this.byHostPort.has(key)) this.byHostPort.set(key, r);
      }
    }
    return this.byHostPort.get(hostPort);
  }

  async read(ctx: ReadContext, target?: ResolvedTarget): Promise<SourceReading> {
    const started = performance.now();
    const registers = target ? [target.ref as UkmRegisterConfig] : this.owned;
    const adHoc = target?.adHoc === true;
    const request = this.readRequest(ctx, adHoc);
    const detail = ctx.log.detail();
    const readings = await Promise.all(registers.map((r) => this.readRegister(r, request, detail, adHoc)));
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

  /** An ad-hoc target's connection is closed after each request: its pool goes with it, so any number of targets holds none. */
  private readRequest(ctx: ReadContext, adHoc: boolean): ReadRequest {
    const { http } = this.deps;
    const timeoutMs = this.config.request_timeout;
    const keepAlive = !adHoc;
    return {
      endpoints: this.config.endpoints,
      deadline: ctx.deadline,
      intervalMs: this.config.min_interval,
      onWait: (ms) => http.observer.rateLimitWait(this.name, ms / 1000),
      fetch: (url, endpoint, signal) => http.send(endpoint, { method: 'GET', url, signal, maxBytes: UKM_MAX_BODY_BYTES, timeoutMs, keepAlive }),
      parse: parseUkmAnswer,
    };
  }

  /** `detail` gets each register's failed endpoints on every read (Logger.detail). */
  private async readRegister(register: UkmRegisterConfig, request: ReadRequest, detail: Logger, adHoc: boolean): Promise<RegisterReading> {
    const outcomes = await this.deps.pool.read(this.targetOf(register, adHoc), request);
    return this.toReading(register, outcomes, detail);
  }

  /**
   * A register's endpoint URLs, time zone (its own, else the source's: also that of its trading
   * hours) and place, built once per register. Through a proxy, the proxy resolves the host: the
   * register is keyed by its host name as spelt.
   */
  private targetOf(register: UkmRegisterConfig, adHoc = false): ReadTarget {
    let target = this.targets.get(register);
    if (!target) {
      const urls = new Map(this.config.endpoints.map((e) => [e, ukmEndpointUrl(register.url, e)]));
      const place = registerPlaceOf(register.url);
      const keys = place.isIp || this.config.proxy_url ? addressKeysAt(place, place.host) : undefined;
      target = { urls, zone: register.timezone ?? this.deps.timezone, place, adHoc, ...(keys ? { keys } : {}) };
      this.targets.set(register, target);
    }
    return target;
  }

  private toReading(register: UkmRegisterConfig, outcomes: ReadOutcomes, detail: Logger): RegisterReading {
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
    const trading = isTrading(register.trading_hours ?? this.config.trading_hours, this.targetOf(register).zone, new Date());
    samples.push({ metric: 'kkt_trading', value: trading ? 1 : 0 });
    const reading: RegisterReading = { kkt: register.name, labels: register.labels, up, info: { url: register.url }, samples, endpoints };
    if (failures.length > 0) {
      detail.warn(up ? 'register partly read' : 'register not read', { kkt: register.name, url: register.url, failed: failures.join('; ') });
      reading.error = up ? failures.join('; ') : unreachableWhy(outcomes, this.config.endpoints);
    }
    return reading;
  }
}

/** Why no endpoint of a register answered: the one error when they all failed alike or were skipped after it. */
function unreachableWhy(outcomes: ReadOutcomes, endpoints: readonly UkmEndpoint[]): string {
  const failed = endpoints.flatMap((e) => { const o = outcomes.of(e); return o.ok || o.error === SKIPPED ? [] : [{ e, error: o.error }]; });
  if (new Set(failed.map((f) => f.error)).size === 1) return failed[0]!.error;
  return failed.map((f) => `${f.e}: ${f.error}`).join('; ');
}
