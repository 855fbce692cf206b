import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INFO_LABELS } from '../metrics/definitions.js';
import { ConfigError, loadConfig } from './load.js';
import { unsafeXReportPath } from './schema.js';

async function problemsOf(yaml: string): Promise<string[]> {
  const file = join(await mkdtemp(join(tmpdir(), 'kkt-schema-test-')), 'kkt-exporter.yml');
  await writeFile(file, yaml);
  try {
    await loadConfig(file, {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  }
  return [];
}

const ukmWithLabels = (labels: string) => `sources:\n  - name: stores\n    type: ukm\n    registers:\n      - { name: a, url: "http://10.0.0.1:8080", labels: { ${labels} } }\n`;

describe('static labels that would break the whole scrape', () => {
  it.each(['url', 'serial', 'flag', 'endpoint', 'operation', 'circuit', 'id_kkm', 'le', 'instance'])('refuses "%s" at its position', async (name) => {
    const found = await problemsOf(ukmWithLabels(`store: "012", ${name}: x`));
    expect(found).toEqual([expect.stringMatching(new RegExp(`^5:\\d+: sources\\.0\\.registers\\.0\\.labels\\.${name}: label "${name}" is set by the exporter itself`))]);
  });

  it('accepts labels of its own, such as store and city', async () => {
    expect(await problemsOf(ukmWithLabels('store: "012", city: msk'))).toEqual([]);
  });

  it('reserves every kkt_info label', () => {
    expect(INFO_LABELS).toEqual(expect.arrayContaining(['url', 'serial', 'rnm', 'fn_serial', 'inn', 'eip', 'id_kkm', 'ofd_code']));
  });
});

const kassa24 = (xreport: string) =>
  `sources:\n  - name: kz\n    type: kassa24\n    login: "77001234567"\n    password: pw\n    xreport: ${xreport}\n`;

describe('xreport.path and method: nothing that could close or open a shift', () => {
  it.each([
    '/shifts/{shift}/z',
    '/shifts/{shift}/Z',
    '/z/{shift}/x',
    '/shifts',
    '/shifts/{shift}',
    '/shifts/x/{shift}/report',
    '/kkms/{shift}/close',
    '/shifts/{shift}/%7a',
    '/shifts/{shift}/x/../z',
    '/shifts/{shift}/x?then=/z',
    '/shifts/{shift}//z',
    '/reports/x',
    'shifts/{shift}/x',
    '/shifts/{shift}/{shift}/x',
  ])('refuses %s', (path) => {
    expect(unsafeXReportPath(path)).toBeDefined();
  });

  it.each(['/shifts/{shift}/x', '/shifts/{shift}/reports/x', '/api/v2/shifts/{shift}/x-report', '/x-report/{shift}/totals'])('accepts %s', (path) => {
    expect(unsafeXReportPath(path)).toBeUndefined();
  });

  it('reports a Z-report path at file:line:col', async () => {
    expect(await problemsOf(kassa24('{ path: "/shifts/{shift}/z" }'))).toEqual([
      '6:22: sources.0.xreport.path: must not reach "/z": it could close or open a shift (only an X-report may be taken)',
    ]);
  });

  it('takes GET or POST only', async () => {
    expect(await problemsOf(kassa24('{ method: DELETE }'))).toEqual([expect.stringMatching(/^6:\d+: sources\.0\.xreport\.method: /)]);
    expect(await problemsOf(kassa24('{ method: PUT }'))).toHaveLength(1);
    expect(await problemsOf(kassa24('{ method: GET }'))).toEqual([]);
  });
});

describe('UKM endpoints: the list chooses which, the order is always the priority order', () => {
  it('reads paper and ofd first even when the config lists them in the document order', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'kkt-schema-test-')), 'kkt-exporter.yml');
    await writeFile(file, 'sources:\n  - name: s\n    type: ukm\n    endpoints: [last_receipt_time, downtime, user_role_id, ofd, paper, vision, weight, paper]\n');
    const { config } = await loadConfig(file, {});
    const source = config.sources[0];
    expect(source?.type === 'ukm' && source.endpoints).toEqual(['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight']);
  });
});
