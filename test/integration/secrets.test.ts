/**
 * Secrets (passwords, tokens, cookies) never appear in an HTTP answer or a log line: through
 * scrapes, /probe?debug=true, the landing page and the probe logs it links (/logs?id=), refused logins, --config.check on a bad file and a
 * failed reload.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtolSimulator, generatedAtolFleet } from '../../src/simulator/atol.js';
import { BusinessKassaSimulator, generatedBkFleet } from '../../src/simulator/businesskassa.js';
import { generatedK24Fleet, Kassa24Simulator } from '../../src/simulator/kassa24.js';
import { formatLogfmt } from '../../src/log.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';

const ATOL_PASSWORD = 'ATOL-SECRET-pw-7c1d';
const K24_PASSWORD = 'K24-SECRET-pw-9e2f';
const BK_COOKIE = 'bkapisessionid=BK-SECRET-cookie-4a8b';
const WRONG_PASSWORD = 'WRONG-SECRET-pw-1b3c';
const SECRETS = [ATOL_PASSWORD, K24_PASSWORD, 'BK-SECRET-cookie-4a8b', WRONG_PASSWORD];
/** Tokens the simulators issue: ATOL `tok-N-...`, Kassa24 JWTs (base64 of `{"`). */
const TOKEN_PATTERNS = [/tok-\d+-[a-z0-9]+/, /eyJ[A-Za-z0-9_-]{10,}/];

let atol: AtolSimulator;
let wrongAtol: AtolSimulator;
let bk: BusinessKassaSimulator;
let k24: Kassa24Simulator;
let app: RunningExporter;
const answers: string[] = [];

const config = () => `sources:
  - name: atol-cloud
    type: atol
    url: "${atol.url}"
    login: ${atol.login}
    password: "${ATOL_PASSWORD}"
  - name: atol-wrong
    type: atol
    url: "${wrongAtol.url}"
    login: ${wrongAtol.login}
    password: "${WRONG_PASSWORD}"
  - name: bk
    type: businesskassa
    url: "${bk.url}"
    auth: { cookie: "${BK_COOKIE}" }
  - name: kz
    type: kassa24
    url: "${k24.url}"
    login: "${k24.login}"
    password: "${K24_PASSWORD}"
`;

beforeAll(async () => {
  atol = await AtolSimulator.start({ registers: generatedAtolFleet(3), password: ATOL_PASSWORD });
  wrongAtol = await AtolSimulator.start({ registers: generatedAtolFleet(1) });
  bk = await BusinessKassaSimulator.start({ registers: generatedBkFleet(2), auth: { cookie: BK_COOKIE } });
  k24 = await Kassa24Simulator.start({ registers: generatedK24Fleet(2), password: K24_PASSWORD });
  app = await startExporter(config());
  const record = async (path: string) => {
    const res = await get(`${app.url}${path}`);
    answers.push(`${path}\n${res.text}`);
    return res;
  };
  await record('/metrics');
  // A token the vendor no longer accepts, so the exporter renews it in front of the logs.
  atol.expireTokens();
  k24.expireTokens();
  await record('/metrics');
  for (const source of ['atol-cloud', 'atol-wrong', 'bk', 'kz']) await record(`/probe?source=${source}&debug=true`);
  await record(`/probe?source=kz&target=${k24.registers[0]?.id}&debug=true`);
  const landing = await record('/');
  // Every probe log the landing page links to, the refused login's among them.
  const ids = new Set([...landing.text.matchAll(/href="logs\?id=(\d+)"/g)].map((m) => m[1]));
  expect(ids.size).toBeGreaterThan(5);
  for (const id of ids) await record(`/logs?id=${id}`);
  // A failed reload of a config full of secrets, with problems next to them.
  await writeFile(app.configFile, `${config()}    colour: red\n  - name: bk2\n    type: businesskassa\n    url: "not a url ${ATOL_PASSWORD}"\n    auth: { cookie: "${BK_COOKIE}", bearer_token: "${K24_PASSWORD}" }\n`);
  const reload = await fetch(`${app.url}/-/reload`, { method: 'POST' });
  answers.push(await reload.text());
  expect(reload.status).toBe(500);
  const check = spawnSync(process.execPath, [join(import.meta.dirname, '../../dist/cli.js'), `--config.file=${app.configFile}`, '--config.check'], { encoding: 'utf8' });
  expect(check.status).toBe(1);
  answers.push(check.stdout, check.stderr);
}, 30_000);

afterAll(async () => {
  await app?.stop();
  await Promise.all([atol?.stop(), wrongAtol?.stop(), bk?.stop(), k24?.stop()]);
});

describe('secrets', () => {
  it('the run exercised what it should: reads, renewed tokens, a refused login, debug pages, a failed reload', () => {
    const all = answers.join('\n');
    expect(all).toContain('kkt_up{source="atol-cloud"');
    expect(all).toContain('kkt_up{source="kz"');
    expect(all).toContain('kkt_up{source="bk"');
    expect(all).toContain('Source configuration:');
    expect(all).toMatch(/password: <secret>/);
    expect(all).toMatch(/cookie: <secret>/);
    expect(all).toMatch(/unknown key "colour"/);
    expect(all).toMatch(/^\/logs\?id=\d+\nProbe \d+ of source atol-wrong .*: failed in [\d.]+ s: cannot read the register list: ATOL login failed: HTTP 401/m);
    expect(atol.authCalls).toBe(2);
    expect(k24.authCalls).toBe(2);
    expect(app.logs.some((l) => /WrongLoginOrPassword/.test(String(l.fields.err)))).toBe(true);
  });

  it('appear in no HTTP answer, no --config.check output and no log line', () => {
    const texts = [...answers, ...app.logs.map(formatLogfmt)];
    for (const text of texts) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      for (const pattern of TOKEN_PATTERNS) expect(text).not.toMatch(pattern);
    }
  });
});
