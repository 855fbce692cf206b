import type { SourceReading, RegisterReading } from '../readings/reading.js';
import { PROBE_METRICS, REGISTER_METRICS, type ScrapeMetricDef } from '../readings/catalog.js';

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

/** Metric families in the catalog's order; their scope says whose lines they are. */
const FAMILIES = Object.entries({ ...REGISTER_METRICS, ...PROBE_METRICS }) as [string, ScrapeMetricDef][];
const FAMILY_INDEX = new Map(FAMILIES.map(([name], i) => [name, i]));
const familiesOf = (scope: ScrapeMetricDef['scope']) => FAMILIES.flatMap(([, def], i) => (def.scope === scope ? [i] : []));
/** Written first: each register's families, from its reading; then each source's own, once per source. */
const REGISTER_FAMILIES = familiesOf('register');
const SOURCE_FAMILIES = familiesOf('source');

/** One register's (or one source's meta) series lines, each family's lines joined, by family index. */
type LinesByFamily = (string | undefined)[];

function addLine(byFamily: LinesByFamily, metric: string, labels: string, value: number): void {
  const i = FAMILY_INDEX.get(metric);
  if (i === undefined || !Number.isFinite(value)) return;
  const line = `${metric}{${labels}} ${value}`;
  const prev = byFamily[i];
  byFamily[i] = prev === undefined ? line : `${prev}\n${line}`;
}

function registerLines(source: string, r: RegisterReading): LinesByFamily {
  const byFamily: LinesByFamily = [];
  const base = labelPairs({ source, kkt: r.kkt, ...r.labels });
  const info = labelPairs(r.info);
  addLine(byFamily, 'kkt_up', base, r.up ? 1 : 0);
  addLine(byFamily, 'kkt_info', info ? `${base},${info}` : base, 1);
  for (const s of r.samples) {
    const extra = s.labels ? labelPairs(s.labels) : '';
    addLine(byFamily, s.metric, extra ? `${base},${extra}` : base, s.value);
  }
  for (const e of r.endpoints) addLine(byFamily, 'kkt_probe_endpoint_success', `${base},endpoint="${escapeLabelValue(e.endpoint)}"`, e.success ? 1 : 0);
  flatten(byFamily);
  return byFamily;
}

/**
 * V8 keeps a string built with `+` as a tree of its pieces, several times the text, until something
 * reads it. Reading one character flattens it in place, so each family's join is a plain copy
 * (figures in docs/benchmark.md).
 */
function flatten(byFamily: LinesByFamily): void {
  for (const lines of byFamily) lines?.charCodeAt(0);
}

function sourceLines(result: SourceReading): LinesByFamily {
  const byFamily: LinesByFamily = [];
  const source = labelPairs({ source: result.source });
  addLine(byFamily, 'kkt_probe_success', source, result.success ? 1 : 0);
  addLine(byFamily, 'kkt_probe_duration_seconds', source, result.durationSeconds);
  addLine(byFamily, 'kkt_source_up', source, result.sourceUp === false ? 0 : 1);
  if (result.clockOffsetSeconds !== undefined) addLine(byFamily, 'kkt_source_clock_offset_seconds', source, result.clockOffsetSeconds);
  return byFamily;
}

/** Each family's HELP and TYPE lines, written once before its first series. */
const HEADERS = FAMILIES.map(([name, def]) => `# HELP ${name} ${escapeHelp(def.help)}\n# TYPE ${name} ${def.type}\n`);

/**
 * An exposition text as chunks to be written one after another, never joined: a scrape's answer
 * may pass V8's longest string (about 512 MiB) while no chunk does.
 */
export type Exposition = string[];

/** One source's text of each family, by family index: its lines, each ending in a newline. */
type FamilyTexts = (string | undefined)[];

/** Lines of one family from `registers` as one string; undefined when there are none. */
function familyText(registers: readonly LinesByFamily[], i: number): string | undefined {
  const lines: string[] = [];
  for (const byFamily of registers) if (byFamily[i] !== undefined) lines.push(byFamily[i] as string);
  if (lines.length === 0) return undefined;
  lines.push('');
  return lines.join('\n');
}

/** A source's register lines. Throws when they cannot be made (a RangeError past V8's longest string). */
function registerTexts(result: SourceReading): FamilyTexts {
  const perRegister = result.registers.map((r) => registerLines(result.source, r));
  const texts: FamilyTexts = [];
  for (const i of REGISTER_FAMILIES) texts[i] = familyText(perRegister, i);
  return texts;
}

/** A source's own lines (probe meta). */
function sourceTexts(result: SourceReading): FamilyTexts {
  return sourceLines(result).map((line) => `${line}\n`);
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
 * The exposition text of one scrape as chunks: the families of register scope, then those of
 * source scope, grouped by family, in results order; a chunk per family and source, so no size of one source's answer can
 * fail another's. A source whose lines cannot be made is told to `onFailure` and answered with
 * kkt_probe_success 0 and none of its registers. Joined, it ends with a newline.
 */
export function renderSourceChunks(results: readonly SourceReading[], onFailure: RenderFailure = () => {}): Exposition {
  const registers: FamilyTexts[] = [];
  const sources: FamilyTexts[] = [];
  for (const result of results) {
    let probe = result;
    try {
      registers.push(registerTexts(result));
    } catch (error) {
      onFailure(result.source, error);
      registers.push([]);
      probe = { ...result, success: false };
    }
    sources.push(sourceTexts(probe));
  }
  const out: Exposition = [];
  writeFamilies(out, registers, REGISTER_FAMILIES);
  writeFamilies(out, sources, SOURCE_FAMILIES);
  return out;
}

/** renderSourceChunks joined: one string, for a small answer (`/probe?debug=true`, tests). */
export function renderSourceReadings(results: readonly SourceReading[], onFailure?: RenderFailure): string {
  return renderSourceChunks(results, onFailure).join('');
}
