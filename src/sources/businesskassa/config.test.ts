import { describe, expect, it } from 'vitest';
import { configProblems as problemsOf, loadYaml } from '../../../test/support/config.js';
import { unsafeCircuitPath } from './config.js';

const bk = (extra = '') => `sources:\n  - name: bk\n    type: businesskassa\n    url: http://10.55.0.2:8080/v1\n    circuits: ["770900467024"]\n${extra}`;

describe('circuit_path: the GET path of one fiscal circuit, {inn} once', () => {
  it("defaults to the document's /fcircuit/{inn}", async () => {
    const source = (await loadYaml(bk())).config.sources[0];
    expect(source?.type === 'businesskassa' && source.circuit_path).toBe('/fcircuit/{inn}');
  });

  it.each(['/fcircuit/{inn}', '/orgs/{inn}/fcircuit', '/orgs/{inn}/fcircuit/list'])('accepts %s', (path) => {
    expect(unsafeCircuitPath(path)).toBeUndefined();
  });

  it.each(['fcircuit/{inn}', '/fcircuit', '/fcircuit/{inn}/{inn}', '/fcircuit/x{inn}', '/fcircuit/{inn}?all=1', '/fcircuit/%7Binn%7D', '/orgs/../fcircuit/{inn}', '/fcircuit//{inn}', '/fcircuit/{inn}#x'])(
    'refuses %s',
    (path) => {
      expect(unsafeCircuitPath(path)).toBeDefined();
    },
  );

  it('reports a bad path at file:line:col', async () => {
    expect(await problemsOf(bk('    circuit_path: /fcircuit\n'))).toEqual(['6:19: sources.0.circuit_path: must contain {inn} once, as a whole segment']);
  });
});

describe('circuits: each INN once', () => {
  const withCircuits = (circuits: string) => `sources:\n  - name: bk\n    type: businesskassa\n    url: http://10.55.0.2:8080/v1\n    circuits: ${circuits}\n`;

  it('refuses a repeated INN at file:line:col, however it is written (a number or a string)', async () => {
    expect(await problemsOf(withCircuits('["770900467024", "7709", 770900467024]'))).toEqual([
      '5:40: sources.0.circuits.2: circuit "770900467024" is listed twice (first as item 0): remove the repeat',
    ]);
  });

  it('takes distinct INNs', async () => {
    expect(await problemsOf(withCircuits('["770900467024", "7709"]'))).toEqual([]);
  });
});
