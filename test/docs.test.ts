import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { withMetricsTable } from '../src/metrics/docs.js';
import { ALL_METRICS, REGISTER_METRICS } from '../src/readings/catalog.js';
import { CONFIG_RULES, VENDORS } from '../src/sources/vendors.js';

const root = new URL('..', import.meta.url);

/**
 * The expressions of the README's ```promql blocks: a block holds one or more, separated by blank lines.
 */
function promqlExpressions(markdown: string): string[] {
  return [...markdown.matchAll(/^```promql\n([\s\S]*?)^```$/gm)]
    .flatMap((m) => (m[1] as string).split(/\n[ \t]*\n/))
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** Runs `promtool check rules` on the expressions, each as a recording rule; status and output. */
function checkWithPromtool(expressions: string[]): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kkt-readme-promql-'));
  try {
    const rules = expressions.map((e, i) => `      - record: readme:expression_${i + 1}\n        expr: |\n${e.replace(/^/gm, '          ')}\n`).join('');
    const file = join(dir, 'readme-promql.yml');
    writeFileSync(file, `groups:\n  - name: readme\n    rules:\n${rules}`);
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    if (r.error) throw new Error('promtool not found: run scripts/install-test-deps.sh (Debian package prometheus)');
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether the exporter exposes a family of this name, or this is a series of one of its histograms. */
const isExposed = (name: string) => name in ALL_METRICS || name.replace(/_(bucket|sum|count)$/, '') in ALL_METRICS;

describe('documentation stays true', () => {
  it('the README metric table is the one generated from the metric catalog and the vendors (run `npm run docs`)', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    expect(withMetricsTable(readme, VENDORS)).toBe(readme);
  });

  it('the table says, for every register metric, which vendor fills it: none is documented that no source sends', () => {
    const unfilled = Object.keys(REGISTER_METRICS).filter((name) => name !== 'kkt_info' && !VENDORS.some((v) => Object.hasOwn(v.metrics, name)));
    expect(unfilled).toEqual([]);
  });

  it('every metric the README names is one the exporter exposes', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    const named = new Set(readme.match(/\bkkt_[a-z0-9_]+/g));
    expect(named.size).toBeGreaterThanOrEqual(Object.keys(ALL_METRICS).length);
    expect([...named].filter((name) => !isExposed(name))).toEqual([]);
  });

  it('examples/kkt-exporter.yml is a valid config as shipped, with no environment', async () => {
    const { config } = await loadConfig(new URL('examples/kkt-exporter.yml', root).pathname, CONFIG_RULES, {});
    const stores = config.sources[0];
    expect(stores?.type === 'ukm' && stores.registers.map((r) => r.name)).toEqual(['msk-012-pos03', 'msk-012-pos04', 'ekb-305-pos01', 'spb-101-pos01', 'spb-101-pos02']);
  });

  it('every ```promql expression in the README parses (promtool) and names only metrics the exporter has', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    const expressions = promqlExpressions(readme);
    expect(expressions.length).toBeGreaterThanOrEqual(10);
    const r = checkWithPromtool(expressions);
    expect(r.out).toContain(`SUCCESS: ${expressions.length} rules found`);
    expect(r.status).toBe(0);
    for (const e of expressions) for (const [name] of e.matchAll(/\bkkt_[a-z0-9_]+/g)) expect(isExposed(name), `${name} in: ${e}`).toBe(true);
  });
});
