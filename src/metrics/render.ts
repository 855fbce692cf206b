import { Gauge, Registry } from 'prom-client';
import type { ProbeResult, RegisterReading } from '../sources/source.js';
import { PROBE_METRICS, REGISTER_METRICS, type MetricDef, type RegisterMetric } from './definitions.js';

type Labels = Record<string, string>;

interface Row {
  labels: Labels;
  value: number;
}

/** Collects rows per metric, then creates each metric once with the union of its label names. */
class SeriesBuilder {
  private readonly rows = new Map<string, Row[]>();

  add(metric: string, labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    let list = this.rows.get(metric);
    if (!list) this.rows.set(metric, (list = []));
    list.push({ labels, value });
  }

  register(registry: Registry, defs: Record<string, MetricDef>): void {
    for (const [name, def] of Object.entries(defs)) {
      const rows = this.rows.get(name);
      if (!rows) continue;
      const labelNames = new Set<string>();
      for (const row of rows) for (const k of Object.keys(row.labels)) labelNames.add(k);
      const gauge = new Gauge({ name, help: def.help, labelNames: [...labelNames], registers: [registry] });
      for (const row of rows) gauge.set(row.labels, row.value);
    }
  }
}

function registerRows(out: SeriesBuilder, source: string, r: RegisterReading): void {
  const base: Labels = { source, kkt: r.kkt, ...r.labels };
  out.add('kkt_up', base, r.up ? 1 : 0);
  out.add('kkt_info', { ...base, ...r.info }, 1);
  for (const s of r.samples) out.add(s.metric, s.labels ? { ...base, ...s.labels } : base, s.value);
  for (const e of r.endpoints) out.add('kkt_probe_endpoint_success', { ...base, endpoint: e.endpoint }, e.success ? 1 : 0);
}

/** Turns readings into series on `registry`: register metrics first, then probe meta. */
export function renderProbeResults(registry: Registry, results: readonly ProbeResult[]): void {
  const out = new SeriesBuilder();
  for (const result of results) {
    out.add('kkt_probe_success', { source: result.source }, result.success ? 1 : 0);
    out.add('kkt_probe_duration_seconds', { source: result.source }, result.durationSeconds);
    for (const r of result.registers) registerRows(out, result.source, r);
  }
  out.register(registry, REGISTER_METRICS);
  out.register(registry, PROBE_METRICS);
}

export type { RegisterMetric };
