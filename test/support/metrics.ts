/** A minimal reader of the Prometheus text format, for assertions on scraped output. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE_RE.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL_RE)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** Series of `name` whose labels include `match`. */
export function find(series: Series[], name: string, match: Record<string, string> = {}): Series[] {
  return series.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one series of `name` matching `match`; undefined if absent, throws if several. */
export function valueOf(series: Series[], name: string, match: Record<string, string> = {}): number | undefined {
  const found = find(series, name, match);
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(match)}`);
  return found[0]?.value;
}
