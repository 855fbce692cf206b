import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readTextFile, whyUnreadable } from './config/load.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholdsDocument } from './status/thresholds.js';

/** How large a Grafana dashboard given to --dashboard.file may be (the shipped one is about 85 KB). */
const DASHBOARD_FILE_LIMIT = { bytes: 16 * 1024 * 1024, text: '16 MiB' };

export const RULES_USAGE = `usage: kkt-exporter rules [flags]

Writes the alert rules (kkt-alerts.yml) for a thresholds file, with the package's own generator.

  --alerts.thresholds-file=PATH  the thresholds (default: examples/alerts/thresholds.yml of the package)
  --output=PATH                  write the rules there (default: standard output)
  --dashboard.file=PATH          also rewrite the generated panels (the problem table, the time to
                                 block) of this Grafana dashboard JSON, in place
  -h, --help                     this text
`;

/** The generator the package ships (scripts/, beside dist/ and src/), a plain ESM script. */
interface Generator {
  renderAlerts(thresholds: unknown): string;
}
interface DashboardGenerator {
  renderDashboard(thresholds: unknown, text: string): string;
}
const script = async <T>(name: string): Promise<T> => (await import(new URL(`../scripts/${name}`, import.meta.url).href)) as T;

/** `kkt-exporter rules ARGS`: the exit code; a problem is one line on stderr. */
export async function rulesCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'alerts.thresholds-file': { type: 'string', default: DEFAULT_THRESHOLDS_FILE },
        output: { type: 'string' },
        'dashboard.file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`kkt-exporter rules: ${(err as Error).message}\n\n${RULES_USAGE}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(RULES_USAGE);
    return 0;
  }
  const file = values['alerts.thresholds-file'];
  try {
    const { document } = await loadThresholdsDocument(file);
    const rules = await render(file, () => script<Generator>('gen-alerts.mjs').then((g) => g.renderAlerts(document)));
    const dashboard = values['dashboard.file'];
    if (dashboard !== undefined) await rewriteDashboard(dashboard, document);
    if (values.output === undefined) process.stdout.write(rules);
    else await writeFile(values.output, rules);
    return 0;
  } catch (err) {
    process.stderr.write(`kkt-exporter rules: ${(err as Error).message}\n`);
    return 1;
  }
}

/** The generator's own errors (a key missing, a bad label name, a dashboard not JSON) name the file at fault. */
async function render(file: string, generate: () => Promise<string>): Promise<string> {
  try {
    return await generate();
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

async function rewriteDashboard(path: string, document: unknown): Promise<void> {
  let text: string;
  try {
    text = await readTextFile(path, DASHBOARD_FILE_LIMIT);
  } catch (err) {
    throw new Error(`${path}: cannot read the dashboard: ${whyUnreadable(err)}`);
  }
  const { renderDashboard } = await script<DashboardGenerator>('gen-dashboard.mjs');
  await writeFile(path, await render(path, async () => renderDashboard(document, text)));
}
