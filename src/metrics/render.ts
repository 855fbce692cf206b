import type { ProbeResult, RegisterReading } from '../readings/reading.js';
import { PROBE_METRICS, REGISTER_METRICS, type MetricDef } from '../readings/catalog.js';

/*
 * Writes the Prometheus text format for one scrape's readings directly: a fresh output per scrape,
 * like a fresh prom-client Registry, without the Gauges' label hashing that dominated a large
 * fleet's render (figures in docs/benchmark.md).
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
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(labels[k] as string)}"`;
  return out;
}

/** Metric families in exposition order: every register metric, then the probe meta. */
const FAMILIES = Object.entries({ ...REGISTER_METRICS, ...PROBE_METRICS }) as [string, MetricDef][];
const FAMILY_INDEX = new Map(FAMILIES.map(([name], i) => [name, i]));

/** One register's (or one probe's meta) series lines, each family's lines joined, by family index. */
type Block = (string | undefined)[];

function addLine(block: Block, metric: string, labels: string, value: number): void {
  const i = FAMILY_INDEX.get(metric);
  if (i === undefined || !Number.isFinite(value)) return;
  const line = `${metric}{${labels}} ${value}`;
  const prev = block[i];
  block[i] = prev === undefined ? line : `${prev}\n${line}`;
}

function formatRegister(source: string, r: RegisterReading): Block {
  const block: Block = [];
  const base = labelPairs({ source, kkt: r.kkt, ...r.labels });
  const info = labelPairs(r.info);
  addLine(block, 'kkt_up', base, r.up ? 1 : 0);
  addLine(block, 'kkt_info', info ? `${base},${info}` : base, 1);
  for (const s of r.samples) {
    const extra = s.labels ? labelPairs(s.labels) : '';
    addLine(block, s.metric, extra ? `${base},${extra}` : base, s.value);
  }
  for (const e of r.endpoints) addLine(block, 'kkt_probe_endpoint_success', `${base},endpoint="${escapeLabelValue(e.endpoint)}"`, e.success ? 1 : 0);
  flatten(block);
  return block;
}

/**
 * V8 keeps a string built with `+` as a tree of its pieces, several times the text, until something
 * reads it. Reading one character flattens it in place, so the answer's final join is a plain copy
 * (figures in docs/benchmark.md).
 */
function flatten(block: Block): void {
  for (const lines of block) lines?.charCodeAt(0);
}

function probeBlock(result: ProbeResult): Block {
  const block: Block = [];
  const source = labelPairs({ source: result.source });
  addLine(block, 'kkt_probe_success', source, result.success ? 1 : 0);
  addLine(block, 'kkt_probe_duration_seconds', source, result.durationSeconds);
  addLine(block, 'kkt_source_up', source, result.sourceUp === false ? 0 : 1);
  if (result.clockOffsetSeconds !== undefined) addLine(block, 'kkt_source_clock_offset_seconds', source, result.clockOffsetSeconds);
  return block;
}

/** Writes the lines of `families` from `blocks`, grouped by family, each under its HELP and TYPE. */
function renderFamilies(blocks: readonly Block[], families: readonly number[]): string {
  const text: string[] = [];
  for (const i of families) {
    const [name, def] = FAMILIES[i] as [string, MetricDef];
    const header = text.length;
    for (const block of blocks) if (block[i] !== undefined) text.push(block[i] as string);
    if (text.length > header) text.splice(header, 0, `# HELP ${name} ${escapeHelp(def.help)}`, `# TYPE ${name} ${def.type}`);
  }
  return text.length > 0 ? `${text.join('\n')}\n` : '';
}

/** The families `probeBlock` writes, read off one it made; every other family comes from register blocks. */
const SOME_PROBE_BLOCK = probeBlock({ source: '', success: true, durationSeconds: 0, registers: [], clockOffsetSeconds: 0 });
const PROBE_FAMILIES = FAMILIES.map((_, i) => i).filter((i) => SOME_PROBE_BLOCK[i] !== undefined);
const REGISTER_FAMILIES = FAMILIES.map((_, i) => i).filter((i) => !PROBE_FAMILIES.includes(i));

/** The exposition text of one scrape: register metrics, then the probes' own, grouped by family, in results order. Ends with a newline. */
export function renderProbeResults(results: readonly ProbeResult[]): string {
  const registers = results.flatMap((result) => result.registers.map((r) => formatRegister(result.source, r)));
  return renderFamilies(registers, REGISTER_FAMILIES) + renderFamilies(results.map(probeBlock), PROBE_FAMILIES);
}
