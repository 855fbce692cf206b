import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';
import { maskedYaml } from './mask.js';
import type { CommonSourceConfig } from './schema.js';
import { CONFIG_RULES, type Config } from '../sources/vendors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-register-labels-test-'));
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const ATOL = 'sources:\n  - {name: atol, type: atol, login: l, password: p, register_labels_file: LABELS}\n';
const BK = 'sources:\n  - {name: bk, type: businesskassa, url: "http://10.0.0.9/v1", auth: {cookie: c}, register_labels_file: LABELS}\n';
const K24 = 'sources:\n  - {name: kz, type: kassa24, login: "7700", password: p, kkms: [77505, 2062], probe_only: true, register_labels_file: LABELS}\n';

/** Loads `config` (its LABELS the file `name` written with `labels`). */
async function load(config: string, name: string, labels: string): Promise<Config> {
  const labelsFile = await write(name, labels);
  const file = await write(`config-${name}.yml`, config.replace('LABELS', JSON.stringify(labelsFile)));
  return (await loadConfig(file, CONFIG_RULES, {})).config;
}

/** The problems loading fails with, each as `file:line:col: message` with the file's base name. */
async function problems(config: string, name: string, labels: string): Promise<string[]> {
  const err = await load(config, name, labels).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}:${p.col}: ${p.message}`);
}

const labelsOf = (config: Config, kkt: string) => (config.sources[0] as CommonSourceConfig | undefined)?.register_labels?.of(kkt);

describe('register_labels_file', () => {
  it('reads a CSV keyed by ATOL serial: leading zeros, quoted commas, an empty cell left out', async () => {
    const config = await load(ATOL, 'atol.csv', 'serial,store,city\r\n00107700000001,012,"Moscow, centre"\r\n00107700000002,,spb\r\n');
    expect(labelsOf(config, '00107700000001')).toEqual({ store: '012', city: 'Moscow, centre' });
    expect(labelsOf(config, '00107700000002')).toEqual({ city: 'spb' });
    expect(labelsOf(config, '00107700000003')).toEqual({});
  });

  it('reads a semicolon CSV as a spreadsheet in a Russian locale saves it, keyed by BusinessKassa sn', async () => {
    const config = await load(BK, 'bk.csv', '\uFEFFsn;store\n0000000001;205\n');
    expect(labelsOf(config, '0000000001')).toEqual({ store: '205' });
    expect(await problems(BK, 'bom.csv', '\uFEFFserial;store\n')).toEqual(['bom.csv:1:1: the first column must be "sn" (the kkt label of a register of source "bk"), not "serial"']);
  });

  it('reads a YAML mapping keyed by Kassa24 IdKkm, every value a string as written', async () => {
    const config = await load(K24, 'kz.yml', '77505: {store: 012, city: almaty}\n"2062": {store: 7}\n');
    expect(labelsOf(config, '77505')).toEqual({ store: '012', city: 'almaty' });
    expect(labelsOf(config, '2062')).toEqual({ store: '7' });
    expect(maskedYaml(config.sources[0])).toContain('register_labels: 2 registers');
  });

  it('merges under a UKM register\'s own labels, which win, keyed by the register name', async () => {
    const config = await load(
      'sources:\n  - name: s\n    type: ukm\n    register_labels_file: LABELS\n    registers:\n      - {name: pos1, url: "http://10.0.0.1", labels: {store: "001"}}\n      - {name: pos2, url: "http://10.0.0.2"}\n',
      'ukm.csv',
      'name,store,region\npos1,999,north\npos2,002,south\n',
    );
    const s = config.sources[0];
    expect(s?.type === 'ukm' && s.registers.map((r) => r.labels)).toEqual([{ store: '001', region: 'north' }, { store: '002', region: 'south' }]);
  });

  it('reports CSV problems at their row and column', async () => {
    expect(await problems(ATOL, 'head.csv', 'sn,store\n')).toEqual(['head.csv:1:1: the first column must be "serial" (the kkt label of a register of source "atol"), not "sn"']);
    expect(await problems(ATOL, 'reserved.csv', 'serial,store,kkt,bad-name\n1,2,3,4\n')).toEqual([
      'reserved.csv:1:14: label "kkt" is set by the exporter itself (a duplicate label would make Prometheus drop the whole scrape): rename it',
      'reserved.csv:1:18: label name "bad-name" must match [a-zA-Z_][a-zA-Z0-9_]*',
    ]);
    expect(await problems(ATOL, 'rows.csv', `serial,store\n1,a\n2,b,c\n1,d\n4,${'v'.repeat(300)}\n,e\n`)).toEqual([
      'rows.csv:3:5: row has 3 fields, the header 2',
      'rows.csv:4:1: register "1" is listed twice (first at line 2)',
      'rows.csv:5:3: a label value may have at most 256 characters',
      'rows.csv:6:1: the register id is empty',
    ]);
    const rows = Array.from({ length: 100_001 }, (_, i) => `${i},s\n`).join('');
    expect(await problems(ATOL, 'huge.csv', `serial,store\n${rows}`)).toEqual(['huge.csv:100002:1: the file has more than 100000 rows after the header']);
    expect(await problems(ATOL, 'quote.csv', 'serial,store\n1,"a\n2,b\n')).toEqual(['quote.csv:2:3: unterminated quoted field']);
    expect(await problems(ATOL, 'after.csv', 'serial,store\n1,"a"b\n')).toEqual(['after.csv:2:6: text after a closing quote: quote the whole field, and write a quote in it as ""']);
  });

  it('reports YAML problems at their line and column, a reserved label among them', async () => {
    expect(await problems(K24, 'bad.yml', '77505:\n  store: "1"\n  source: x\n2062: [a]\n')).toEqual([
      'bad.yml:3:11: 77505.source: label "source" is set by the exporter itself (a duplicate label would make Prometheus drop the whole scrape): rename it',
      'bad.yml:4:7: 2062: Invalid input: expected record, received array',
    ]);
    expect(await problems(K24, 'dup.yml', '77505: {a: "1"}\n77505: {a: "2"}\n')).toEqual([expect.stringMatching(/^dup\.yml:2:1: Map keys must be unique/)]);
  });

  it('names the path of a missing file', async () => {
    const file = await write('missing.yml', 'sources:\n  - {name: atol, type: atol, login: l, password: p, register_labels_file: nope.csv}\n');
    await expect(loadConfig(file, CONFIG_RULES, {})).rejects.toThrow(`${file}:2:75: cannot read register_labels_file ${join(dir, 'nope.csv')}: ENOENT`);
  });
});
