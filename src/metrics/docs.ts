import { PROBE_METRICS, REGISTER_METRICS, SELF_METRICS, type MetricDef, type RegisterMetric } from '../readings/catalog.js';

const START = '<!-- metrics-table:start (generated from src/readings/catalog.ts and src/sources/*/vendor.ts by `npm run docs`) -->';
/** How the table's first line begins, whatever it says after (it once named the catalog only). */
const START_OPENING = '<!-- metrics-table:start';
const END = '<!-- metrics-table:end -->';

/** What the table tells of a vendor: the register metrics it fills and its `kkt_info` labels, each with its vendor field. */
export interface VendorFields {
  type: string;
  metrics: Partial<Record<RegisterMetric, string>>;
  infoLabels: Readonly<Record<string, string>>;
}

/** `serial (serialNumber), eip`: each label, with its field when that is named otherwise. */
function infoFields(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([label, field]) => (field === label ? label : `${label} (${field})`)).join(', ');
}

/** The "read from" cell of a register metric: each vendor that fills it, in the vendors' order. */
function readFrom(name: string, vendors: readonly VendorFields[]): string {
  const fieldOf = (v: VendorFields) => (name === 'kkt_info' ? infoFields(v.infoLabels) : v.metrics[name as RegisterMetric]);
  return vendors.flatMap((v) => (fieldOf(v) ? [`${v.type}: ${fieldOf(v)}`] : [])).join('; ');
}

function rows(defs: Record<string, MetricDef>, baseLabels: string, readFromOf: (name: string) => string = () => ''): string[] {
  return Object.entries(defs).map(([name, d]) => {
    const labels = [baseLabels, ...d.labels].filter(Boolean).join(', ');
    return `| \`${name}\` | ${d.type} | ${labels} | ${d.help} | ${readFromOf(name)} |`;
  });
}

/** The README's metric table, generated from the metric catalog and what each vendor fills. */
export function metricsTableMarkdown(vendors: readonly VendorFields[]): string {
  const header = ['| metric | type | labels | meaning | read from |', '|---|---|---|---|---|'];
  return [
    START,
    '**Register metrics** (each also carries the register\'s static `labels` from the config):',
    '',
    ...header,
    ...rows(REGISTER_METRICS, 'source, kkt', (name) => readFrom(name, vendors)),
    '',
    '**Probe metrics** (per source in `/metrics`, per request in `/probe`):',
    '',
    ...header,
    ...rows(PROBE_METRICS, ''),
    '',
    '**Exporter metrics** (on `/metrics` only, with the standard `process_*` and `nodejs_*`):',
    '',
    ...header,
    ...rows(SELF_METRICS, ''),
    END,
  ].join('\n');
}

/** `readme` with its metric table replaced by the one generated for `vendors`. */
export function withMetricsTable(readme: string, vendors: readonly VendorFields[]): string {
  const a = readme.indexOf(START_OPENING);
  const b = readme.indexOf(END);
  if (a < 0 || b < 0) throw new Error('README has no metrics-table markers');
  return readme.slice(0, a) + metricsTableMarkdown(vendors) + readme.slice(b + END.length);
}
