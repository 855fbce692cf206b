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
 * reads it. Reading one character flattens it in place, so each family's join is a plain copy
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

/** Each family's HELP and TYPE lines, written once before its first series. */
const HEADERS = FAMILIES.map(([name, def]) => `# HELP ${name} ${escapeHelp(def.help)}\n# TYPE ${name} ${def.type}\n`);

/** The families `probeBlock` writes, read off one it made; every other family comes from register blocks. */
const SOME_PROBE_BLOCK = probeBlock({ source: '', success: true, durationSeconds: 0, registers: [], clockOffsetSeconds: 0 });
const PROBE_FAMILIES = FAMILIES.map((_, i) => i).filter((i) => SOME_PROBE_BLOCK[i] !== undefined);
const REGISTER_FAMILIES = FAMILIES.map((_, i) => i).filter((i) => !PROBE_FAMILIES.includes(i));

/**
 * An exposition text as chunks to be written one after another, never joined: a scrape's answer
 * may pass V8's longest string (about 512 MiB) while no chunk does.
 */
export type Exposition = string[];

/** One source's text of each family, by family index: its lines, each ending in a newline. */
type FamilyTexts = (string | undefined)[];

/** Lines of one family from `blocks` as one string; undefined when there are none. */
function familyText(blocks: readonly Block[], i: number): string | undefined {
  const lines: string[] = [];
  for (const block of blocks) if (block[i] !== undefined) lines.push(block[i] as string);
  if (lines.length === 0) return undefined;
  lines.push('');
  return lines.join('\n');
}

/** A source's register lines. Throws when they cannot be made (a RangeError past V8's longest string). */
function registerTexts(result: ProbeResult): FamilyTexts {
  const blocks = result.registers.map((r) => formatRegister(result.source, r));
  const texts: FamilyTexts = [];
  for (const i of REGISTER_FAMILIES) texts[i] = familyText(blocks, i);
  return texts;
}

/** A source's probe meta lines. */
function probeTexts(result: ProbeResult): FamilyTexts {
  return probeBlock(result).map((line) => `${line}\n`);
}

/** Pushes the sources' `texts` onto `out` family by family, each family under its HELP and TYPE. */
function writeFamilies(out: Exposition, texts: readonly FamilyTexts[], families: readonly number[]): void {
  for (const i of families) {
    let started = false;
    for (const source of texts) {
      const text = source[i];
      if (text === undefined) continue;
      if (!started) out.push(HEADERS[i] as string);
      started = true;
      out.push(text);
    }
  }
}

/** Told of a source whose readings could not be written: it is answered as failed, without them. */
export type RenderFailure = (source: string, error: unknown) => void;

/**
 * The exposition text of one scrape as chunks: register metrics, then the probes' own, grouped by
 * family, in results order; a chunk per family and source, so no size of one source's answer can
 * fail another's. A source whose lines cannot be made is told to `onFailure` and answered with
 * kkt_probe_success 0 and none of its registers. Joined, it ends with a newline.
 */
export function renderProbeChunks(results: readonly ProbeResult[], onFailure: RenderFailure = () => {}): Exposition {
  const registers: FamilyTexts[] = [];
  const probes: FamilyTexts[] = [];
  for (const result of results) {
    let probe = result;
    try {
      registers.push(registerTexts(result));
    } catch (error) {
      onFailure(result.source, error);
      registers.push([]);
      probe = { ...result, success: false };
    }
    probes.push(probeTexts(probe));
  }
  const out: Exposition = [];
  writeFamilies(out, registers, REGISTER_FAMILIES);
  writeFamilies(out, probes, PROBE_FAMILIES);
  return out;
}

/** renderProbeChunks joined: one string, for a small answer (`/probe?debug=true`, tests). */
export function renderProbeResults(results: readonly ProbeResult[], onFailure?: RenderFailure): string {
  return renderProbeChunks(results, onFailure).join('');
}
