import { describe, expect, it } from 'vitest';
import { INFO_LABELS } from '../readings/catalog.js';
import { configProblems as problemsOf } from '../../test/support/config.js';

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
    expect(INFO_LABELS).toEqual(expect.arrayContaining(['url', 'serial', 'rnm', 'fn_serial', 'inn', 'eip', 'id_kkm']));
  });
});
