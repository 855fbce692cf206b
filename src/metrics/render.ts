import type { ProbeResult, RegisterReading } from '../sources/source.js';
import { PROBE_METRICS, REGISTER_METRICS, type MetricDef } from './definitions.js';

/*
 * Writes the Prometheus text format for one scrape's readings directly. A fresh output per scrape,
 * like a fresh prom-client Registry, but about 5x faster for a large fleet: 160,000 series took
 * 400 ms through prom-client Gauges (label hashing, then rendering) on this machine.
 */

const LABEL_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n' };

export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => LABEL_ESCAPES[c] ?? c) : value;
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelPairs(labels: Record<string, string>): string {
  let out = '';
  for (const [k, v] of Object.entries(labels)) out += `${out ? ',' : ''}${k}="${escapeLabelValue(v)}"`;
  return out;
}

/** Series lines grouped by metric name, each line already complete. */
class ExpositionWriter {
  private readonly lines = new Map<string, string[]>();

  add(metric: string, labels: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let list = this.lines.get(metric);
    if (!list) this.lines.set(metric, (list = []));
    list.push(`${metric}{${labels}} ${value}`);
  }

  write(defs: Record<string, MetricDef>, out: string[]): void {
    for (const [name, def] of Object.entries(defs)) {
      const lines = this.lines.get(name);
      if (!lines) continue;
      out.push(`# HELP ${name} ${escapeHelp(def.help)}`, `# TYPE ${name} ${def.type}`, ...lines);
    }
  }
}

function registerLines(out: ExpositionWriter, source: string, r: RegisterReading): void {
  const base = labelPairs({ source, kkt: r.kkt, ...r.labels });
  const join = (extra: Record<string, string>) => {
    const more = labelPairs(extra);
    return more ? `${base},${more}` : base;
  };
  out.add('kkt_up', base, r.up ? 1 : 0);
  out.add('kkt_info', join(r.info), 1);
  for (const s of r.samples) out.add(s.metric, s.labels ? join(s.labels) : base, s.value);
  for (const e of r.endpoints) out.add('kkt_probe_endpoint_success', join({ endpoint: e.endpoint }), e.success ? 1 : 0);
}

/** The exposition text of readings: register metrics, then probe meta. Ends with a newline. */
export function renderProbeResults(results: readonly ProbeResult[]): string {
  const out = new ExpositionWriter();
  for (const result of results) {
    const source = labelPairs({ source: result.source });
    out.add('kkt_probe_success', source, result.success ? 1 : 0);
    out.add('kkt_probe_duration_seconds', source, result.durationSeconds);
    for (const r of result.registers) registerLines(out, result.source, r);
  }
  const text: string[] = [];
  out.write(REGISTER_METRICS, text);
  out.write(PROBE_METRICS, text);
  return text.length > 0 ? `${text.join('\n')}\n` : '';
}
