import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems as problemsOf } from '../../test/support/config.js';
import { CONFIG_RULES, VENDORS } from '../sources/vendors.js';
import { ConfigError, loadConfig } from './load.js';

const ukmWithLabels = (labels: string) => `sources:\n  - name: stores\n    type: ukm\n    registers:\n      - { name: a, url: "http://10.0.0.1:8080", labels: { ${labels} } }\n`;

/** The `file:line:col: message` lines loading `file` reports. */
async function reported(file: string): Promise<string[]> {
  const err: unknown = await loadConfig(file, CONFIG_RULES, {}).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message.split('\n');
}

describe('static labels that would break the whole scrape', () => {
  it.each(['url', 'serial', 'flag', 'endpoint', 'operation', 'circuit', 'id_kkm', 'le', 'instance'])('refuses "%s" at its position', async (name) => {
    const found = await problemsOf(ukmWithLabels(`store: "012", ${name}: x`));
    expect(found).toEqual([expect.stringMatching(new RegExp(`^5:\\d+: sources\\.0\\.registers\\.0\\.labels\\.${name}: label "${name}" is set by the exporter itself`))]);
  });

  it('accepts labels of its own, such as store and city', async () => {
    expect(await problemsOf(ukmWithLabels('store: "012", city: msk'))).toEqual([]);
  });

  it("refuses a label named like any vendor's kkt_info label, or `exporter`, in the config and in a registers file, at file:line:col", async () => {
    const names = [...new Set([...VENDORS.flatMap((v) => Object.keys(v.infoLabels)), 'exporter'])];
    const registers = (indent: string) => names.map((n, i) => `${indent}- { name: r${i}, url: "http://10.0.0.${i}:8080", labels: { store: "012", ${n}: x } }`);
    const refusal = (file: string, line: string, lineNo: number, path: string, name: string) =>
      `${file}:${lineNo}:${line.indexOf('x }') + 1}: ${path}.labels.${name}: label "${name}" is set by the exporter itself (a duplicate label would make Prometheus drop the whole scrape): rename it`;
    const dir = await mkdtemp(join(tmpdir(), 'kkt-static-labels-'));

    const inline = registers('      ');
    const config = join(dir, 'inline.yml');
    await writeFile(config, `sources:\n  - name: stores\n    type: ukm\n    registers:\n${inline.join('\n')}\n`);
    expect(await reported(config)).toEqual(names.map((n, i) => refusal(config, inline[i] as string, i + 5, `sources.0.registers.${i}`, n)));

    const listed = registers('');
    const file = join(dir, 'registers.yml');
    await writeFile(file, `${listed.join('\n')}\n`);
    const main = join(dir, 'from-file.yml');
    await writeFile(main, 'sources:\n  - name: stores\n    type: ukm\n    registers_file: registers.yml\n');
    expect(await reported(main)).toEqual(names.map((n, i) => refusal(file, listed[i] as string, i + 1, String(i), n)));
  });
});
