import type { Metric, Registry } from 'prom-client';
import { SELF_METRICS } from '../readings/catalog.js';

type RequestMetricName = 'kkt_exporter_requests_total' | 'kkt_exporter_request_duration_seconds' | 'kkt_exporter_rate_limit_wait_seconds_total';
type Labels = Record<string, string>;
interface Value {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A self-metric counted per vendor request, in plain numbers keyed by label values. prom-client
 * hashes the label object on every `inc`/`observe`, which at a large fleet's request rate cost more
 * than the exporter's own handling of a request (figures in docs/benchmark.md). prom-client reads
 * these through `get()` like its own metrics, so they render in the same registry.
 */
abstract class RequestMetric<T> {
  readonly help: string;
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  /** Entries by label values, nested one map per label: no key string is built per request. */
  private readonly root = new Map<string, unknown>();
  protected readonly entries: { labels: Labels; data: T }[] = [];

  constructor(readonly name: RequestMetricName, registry: Registry) {
    this.help = SELF_METRICS[name].help;
    this.labelNames = SELF_METRICS[name].labels;
    registry.registerMetric(this as unknown as Metric);
  }

  /** The entry for label values given in the metric's label order. */
  protected entry(values: readonly string[], init: () => T): T {
    let level = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i] as string) as Map<string, unknown> | undefined;
      if (!next) level.set(values[i] as string, (next = new Map()));
      level = next;
    }
    let data = level.get(values[last] as string) as T | undefined;
    if (data === undefined) {
      data = init();
      level.set(values[last] as string, data);
      this.entries.push({ labels: Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] as string])), data });
    }
    return data;
  }

  reset(): void {
    this.root.clear();
    this.entries.length = 0;
  }

  protected abstract readonly type: string;
  protected abstract values(): Value[];

  /** What prom-client's registry reads to render the metric. */
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}

export class RequestCounter extends RequestMetric<{ value: number }> {
  protected readonly type = 'counter';

  inc(by: number, ...labelValues: string[]): void {
    this.entry(labelValues, () => ({ value: 0 })).value += by;
  }

  protected values(): Value[] {
    return this.entries.map(({ labels, data }) => ({ labels, value: data.value }));
  }
}

export class RequestHistogram extends RequestMetric<{ counts: number[]; sum: number; count: number }> {
  protected readonly type = 'histogram';

  constructor(name: RequestMetricName, registry: Registry, private readonly buckets: readonly number[]) {
    super(name, registry);
  }

  observe(value: number, ...labelValues: string[]): void {
    const d = this.entry(labelValues, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const i = this.buckets.findIndex((le) => value <= le);
    if (i >= 0) d.counts[i] = (d.counts[i] as number) + 1;
    d.sum += value;
    d.count += 1;
  }

  protected values(): Value[] {
    const values: Value[] = [];
    for (const { labels, data } of this.entries) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += data.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: data.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: data.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: data.count });
    }
    return values;
  }
}
