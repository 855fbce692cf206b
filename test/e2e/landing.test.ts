/**
 * The landing page in a real browser (Debian's `chromium`, installed by scripts/install-test-deps.sh,
 * driven by playwright-core without a browser download): the exporter as a process over the
 * simulated chain, where one till is out of paper, one is switched off, the ATOL login is refused and
 * a Kassa24 register's name (which comes from the vendor) carries markup. What a person sees is
 * asserted on the page's text, with JavaScript off, as the page must work without it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { firstLine, need, Processes, ROOT } from './support.js';

const HOSTILE_NAME = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">Касса 4';
const WRONG_PASSWORD = 'not-the-atol-password';
const SCREENSHOT = join(ROOT, '.tmp', 'landing.png');

const processes = new Processes();
let fleet: SimulatedFleet;
let browser: Browser;
let url = '';

/** A page of the exporter with JavaScript off (the page must not need it), at a desktop or phone size. */
async function open(path: string, viewport = { width: 1280, height: 900 }, javaScriptEnabled = false): Promise<Page> {
  const context = await browser.newContext({ viewport, javaScriptEnabled });
  const page = await context.newPage();
  const res = await page.goto(`${url}${path}`);
  expect(res?.status()).toBe(200);
  return page;
}

const textOf = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText({ timeout: 5000 });

beforeAll(async () => {
  need('chromium');
  const spec = demoFleet();
  const k24 = spec.kassa24?.registers[3];
  if (!k24) throw new Error('the demo fleet has no fourth Kassa24 register');
  k24.name = HOSTILE_NAME;
  fleet = await SimulatedFleet.start(spec);
  const dir = mkdtempSync(join(tmpdir(), 'kkt-e2e-landing-'));
  const configFile = join(dir, 'kkt.yml');
  // Two UKM endpoints instead of seven: a scrape takes 1 s, not 6.
  writeFileSync(configFile, fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] }).replace(fleet.atol?.password ?? '?', WRONG_PASSWORD));
  const exporter = processes.start(process.execPath, ['dist/cli.js', `--config.file=${configFile}`, '--web.listen-address=127.0.0.1:0', '--log.format=json']);
  url = (await firstLine(exporter, /"url":"([^"]+)"/))[1] as string;
  const scrape = await fetch(`${url}/metrics`);
  expect(scrape.status).toBe(200);
  await scrape.text();
  // A register read through /probe feeds the page too.
  expect((await fetch(`${url}/probe?source=stores&target=msk-012-pos01`)).status).toBe(200);
  browser = await chromium.launch({
    executablePath: execFileSync('sh', ['-c', 'command -v chromium']).toString().trim(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await processes.stop();
  await fleet?.stop();
});

describe('the landing page in Chromium', () => {
  it('says at the top how many registers there are, how many are up and how many need attention, by kind', async () => {
    const page = await open('/');
    const summary = await textOf(page, '#summary');
    // 15 UKM, 5 BusinessKassa, 4 Kassa24; ATOL's registers are unknown, its login refused.
    expect(summary).toMatch(/^Summary\s+24 registers, 20 up, \d+ need attention \(\d+ critical\)\./);
    expect(summary).toMatch(/out of paper: 1/);
    // The three tills of store 205, every one of them powered off; spb-101-pos04 is off too, but its
    // store is closed now (the demo's trading hours), so it needs no attention.
    expect(summary).toMatch(/not read: 3/);
  });

  it('flags the till out of paper, the one switched off with its reason, and the FN and shift problems in words', async () => {
    const page = await open('/');
    const row = (kkt: string) => page.locator('#attention tr', { hasText: kkt }).innerText({ timeout: 5000 });
    expect(await row('msk-012-pos02')).toMatch(/stores\tneeds attention\s+out of paper/);
    expect(await page.locator('#attention tr', { hasText: 'spb-101-pos04' }).count()).toBe(0);
    expect(await page.locator('tr', { hasText: 'spb-101-pos04' }).innerText()).toMatch(/closed, not read/);
    expect(await row('kzn-205-pos03')).toMatch(/stores\tnot read\s+not read: connection refused/);
    expect(await row('msk-047-pos01')).toContain('17 documents unsent to the OFD');
    expect(await row('2000004582')).toContain('FN not in fiscal mode (phase 7)');
    expect(await row('2000004585')).toContain('FN flag: urgent replacement');
    expect(await row('70003')).toMatch(/shift expired: open 27\.\d h/);
    // Healthy tills are not in the list.
    expect(await page.locator('#attention tr', { hasText: 'msk-012-pos01' }).count()).toBe(0);
  });

  it('shows why the ATOL source failed, and never its password', async () => {
    const page = await open('/');
    const row = await page.locator('#summary tr', { hasText: 'atol-cloud' }).innerText();
    expect(row).toMatch(/failed: cannot read the register list: .*401/);
    expect(await page.content()).not.toContain(WRONG_PASSWORD);
  });

  it('shows a vendor\'s register name as text: its markup is escaped, not run', async () => {
    const page = await open('/', undefined, true);
    expect(await textOf(page, 'body')).toContain(HOSTILE_NAME);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
  });

  it('lists recent probes, /probe ones included, and a log link shows what happened without asking the till again', async () => {
    const page = await open('/');
    const recent = await textOf(page, '#recent');
    expect(recent).toMatch(/stores\tmsk-012-pos01\t\/probe\tsuccess/);
    const before = fleet.ukm.get('kzn-205-pos01')?.requests;
    await page.locator('#attention tr', { hasText: 'kzn-205-pos01' }).getByRole('link', { name: 'log' }).click();
    const log = await textOf(page, 'body');
    expect(log).toMatch(/^Probe \d+ of source stores \(a \/metrics scrape\) at .*: failed/);
    expect(log).toMatch(/level=warn source=stores kkt=kzn-205-pos01 .*msg="register not read"/);
    expect(fleet.ukm.get('kzn-205-pos01')?.requests).toBe(before);
  });

  it('fits a phone screen: nothing wider than the screen but the tables, which scroll in their own box', async () => {
    const page = await open('/', { width: 390, height: 844 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const text = await textOf(page, '#attention');
    expect(text).toContain('out of paper');
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const desktop = await open('/');
    await desktop.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
