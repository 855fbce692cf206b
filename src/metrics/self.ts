import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RequestObserver } from '../http/client.js';
import { SELF_METRICS } from '../readings/catalog.js';
import { RequestCounter, RequestHistogram } from './request-metrics.js';

function def<K extends keyof typeof SELF_METRICS>(name: K, registry: Registry) {
  const d = SELF_METRICS[name];
  return { name, help: d.help, labelNames: [...d.labels], registers: [registry] };
}

/**
 * prom-client's `nodejs_active_{handles,requests,resources}_total` are gauges named like counters,
 * which `promtool check metrics` flags; the same counts by type stay in `nodejs_active_*`.
 */
function dropGaugesNamedLikeCounters(registry: Registry): void {
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  }
}

/** The exporter's own long-lived metrics; also the HTTP layer's observer. */
export class SelfMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly reloadOk = new Gauge(def('kkt_exporter_config_last_reload_successful', this.registry));
  private readonly reloadTime = new Gauge(def('kkt_exporter_config_last_reload_success_timestamp_seconds', this.registry));
  private readonly requests = new RequestCounter('kkt_exporter_requests_total', this.registry);
  private readonly requestDuration = new RequestHistogram('kkt_exporter_request_duration_seconds', this.registry, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  private readonly rateWait = new RequestCounter('kkt_exporter_rate_limit_wait_seconds_total', this.registry);
  private readonly auths = new Counter(def('kkt_exporter_auth_requests_total', this.registry));

  constructor(version: string) {
    new Gauge(def('kkt_exporter_build_info', this.registry)).set({ version, nodejs_version: process.version }, 1);
    collectDefaultMetrics({ register: this.registry });
    dropGaugesNamedLikeCounters(this.registry);
  }

  shardInfo(shard: { index: number; count: number }): void {
    new Gauge(def('kkt_exporter_shard_info', this.registry)).set({ shard: String(shard.index), shards: String(shard.count) }, 1);
  }

  configLoaded(ok: boolean): void {
    this.reloadOk.set(ok ? 1 : 0);
    if (ok) this.reloadTime.set(Date.now() / 1000);
  }

  request(source: string, endpoint: string, code: string, seconds: number): void {
    this.requests.inc(1, source, endpoint, code);
    this.requestDuration.observe(seconds, source, endpoint);
  }

  rateLimitWait(source: string, seconds: number): void {
    this.rateWait.inc(seconds, source);
  }

  auth(source: string, result: string): void {
    this.auths.inc({ source, result });
  }
}
