import { describe, expect, it } from 'vitest';
import { configProblems as problemsOf } from '../../../test/support/config.js';
import { unsafeXReportPath } from './config.js';

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

describe('kkms: each register once', () => {
  const withRegisters = (ids: string) => `sources:\n  - name: kz\n    type: kassa24\n    login: "77001234567"\n    password: pw\n    kkms: ${ids}\n`;

  it('refuses a repeated IdKkm at file:line:col', async () => {
    expect(await problemsOf(withRegisters('[77505, 2062, 77505]'))).toEqual(['6:25: sources.0.kkms.2: register 77505 is listed twice (first as item 0): remove the repeat']);
  });

  it('takes distinct registers', async () => {
    expect(await problemsOf(withRegisters('[77505, 2062]'))).toEqual([]);
  });
});
