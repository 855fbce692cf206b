import { PROBE_METRICS, REGISTER_METRICS, SELF_METRICS, type MetricDef } from '../readings/catalog.js';

const START = '<!-- metrics-table:start (generated from src/readings/catalog.ts by `npm run docs`) -->';
const END = '<!-- metrics-table:end -->';

function rows(defs: Record<string, MetricDef>, baseLabels: string): string[] {
  return Object.entries(defs).map(([name, d]) => {
    const labels = [baseLabels, ...d.labels].filter(Boolean).join(', ');
    const from = d.from ? Object.entries(d.from).map(([src, field]) => `${src}: ${field}`).join('; ') : '';
    return `| \`${name}\` | ${d.type} | ${labels} | ${d.help} | ${from} |`;
  });
}

/** The README's metric table, generated from the one metric definition table. */
export function metricsTableMarkdown(): string {
  const header = ['| metric | type | labels | meaning | read from |', '|---|---|---|---|---|'];
  return [
    START,
    '**Register metrics** (each also carries the register\'s static `labels` from the config):',
    '',
    ...header,
    ...rows(REGISTER_METRICS, 'source, kkt'),
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

/** `readme` with its metric table replaced by the generated one. */
export function withMetricsTable(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < 0) throw new Error('README has no metrics-table markers');
  return readme.slice(0, a) + metricsTableMarkdown() + readme.slice(b + END.length);
}
