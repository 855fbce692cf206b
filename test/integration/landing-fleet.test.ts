/**
 * The landing page at fleet size, on the built exporter: gzip, every register reachable through
 * filtered pages, bounded parameters, and a failed reload shown at the top until a good one.
 */
import { request } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { simulatorArgs } from '../../src/simulator/args.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { get } from '../support/exporter.js';

/** The raw answer: body bytes as sent, and the headers. */
function getRaw(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

/** The register ids of the list section's rows. */
const listed = (page: string): string[] =>
  [...(/<section id="list">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '').matchAll(/<tr><td><b>([^<]+)<\/b>/g)].map((m) => m[1] ?? '');
/** The page without what changes from second to second. */
const steady = (page: string) => page.replace(/\d+(\.\d+)? (s|min|h|days) ago/g, 'ago');

const STORE_OF = (i: number) => (i % 50 === 7 ? 'moscow-12' : 'other');

describe('landing page at fleet size (450 ATOL registers, 3 UKM tills)', () => {
  let fleet: SimulatedFleet;
  let exporter: RunningCli;
  let configFile: string;
  let goodConfig: string;
  let serials: string[];

  beforeAll(async () => {
    fleet = await SimulatedFleet.start(simulatorArgs(['--atol=450', '--ukm=3']).spec);
    serials = (fleet.atol?.registers ?? []).map((r) => r.serialNumber);
    const dir = await mkdtemp(join(tmpdir(), 'kkt-landing-fleet-'));
    await writeFile(join(dir, 'stores.csv'), `serial,store\n${serials.map((s, i) => `${s},${STORE_OF(i)}`).join('\n')}\n`);
    const control = await fleet.startControl();
    await fetch(`${control}/ukm/pos00001`, { method: 'PATCH', body: JSON.stringify({ state: { paper: false } }) });
    const config = parse(fleet.exporterConfig({ ukmEndpoints: ['paper'] })) as { sources: Record<string, unknown>[] };
    const atol = config.sources.find((s) => s.type === 'atol');
    if (atol) atol.register_labels_file = 'stores.csv';
    goodConfig = stringify(config);
    configFile = join(dir, 'kkt-exporter.yml');
    await writeFile(configFile, goodConfig);
    exporter = await startCli([`--config.file=${configFile}`]);
    expect((await get(`${exporter.url}/metrics`)).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    exporter?.child.kill('SIGKILL');
    await fleet?.stop();
  });

  it('answers gzip when asked (Vary: Accept-Encoding), the same page as the plain answer', async () => {
    const plain = await getRaw(`${exporter.url}/`, {});
    const gzip = await getRaw(`${exporter.url}/`, { 'accept-encoding': 'gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.vary).toBe('Accept-Encoding');
    expect(gzip.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(gzip.body.length).toBeLessThan(plain.body.length / 4);
    expect(steady(gunzipSync(gzip.body).toString())).toBe(steady(plain.body.toString()));
  });

  it('a source cut at 200 links to its list, whose pages give every register exactly once', async () => {
    const whole = (await get(`${exporter.url}/`)).text;
    expect(whole).toContain('<a href="?source=atol-cloud">all 450 registers of atol-cloud</a>');
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const text = (await get(`${exporter.url}/?source=atol-cloud&page=${page}`)).text;
      expect(text).toContain(`<b>450</b> registers of source atol-cloud; page ${page} of 3`);
      expect(text).toContain('<b>453</b> registers'); // the summary still counts everything
      seen.push(...listed(text));
    }
    expect(seen).toHaveLength(450);
    expect([...seen].sort()).toEqual([...serials].sort());
    const page2 = (await get(`${exporter.url}/?source=atol-cloud&page=2`)).text;
    expect(page2).toContain('<a href="?source=atol-cloud">previous</a> · <a href="?source=atol-cloud&amp;page=3">next</a>');
    const past = await get(`${exporter.url}/?source=atol-cloud&page=4`);
    expect(past.status).toBe(200);
    expect(past.text).toContain('Page 4 is past the last page: <a href="?source=atol-cloud&amp;page=3">page 3</a>.');
  });

  it('store and state filters list exactly the matching registers; empty form fields filter nothing', async () => {
    const moscow = serials.filter((_, i) => STORE_OF(i) === 'moscow-12');
    expect(listed((await get(`${exporter.url}/?store=moscow-12`)).text).sort()).toEqual([...moscow].sort());
    expect(listed((await get(`${exporter.url}/?source=&store=moscow-12&state=ok`)).text).sort()).toEqual([...moscow].sort());
    expect(listed((await get(`${exporter.url}/?state=needs-attention`)).text)).toEqual(['pos00001']);
    expect(listed((await get(`${exporter.url}/?store=moscow-12&state=needs-attention`)).text)).toEqual([]);
    const ok = (await get(`${exporter.url}/?state=ok&page=3`)).text;
    expect(ok).toContain('<b>452</b> registers in state "ok"; page 3 of 3');
    expect(listed(ok)).toHaveLength(52);
  });

  it('refuses a bad parameter with 400 and a line that says why', async () => {
    const bad: [string, string][] = [
      ['?foo=1', 'unknown parameter(s): foo; GET / takes source, store, state, page and days'],
      ['?state=broken', 'state must be one of ok, check, needs-attention, not-read, closed, not-read-yet'],
      ['?page=0', 'page must be a whole number from 1 to 100000'],
      ['?page=1e3', 'page must be a whole number from 1 to 100000'],
      ['?source=a&source=b', 'source may be given once; GET / takes source, store, state, page and days'],
      [`?store=${'x'.repeat(201)}`, 'store is longer than 200 characters'],
    ];
    for (const [query, line] of bad) expect(await get(`${exporter.url}/${query}`)).toMatchObject({ status: 400, text: `${line}\n` });
  });

  it('a failed reload shows a red banner with file:line:col and no secret; a good reload removes it', async () => {
    expect((await get(`${exporter.url}/`)).text).not.toContain('Config reload failed');
    await writeFile(configFile, goodConfig.replace('password: shop-password', 'password: shop-password\n    pasword: shop-password'));
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(500);
    const page = (await get(`${exporter.url}/`)).text;
    const banner = /<p class="banner critical">Config reload failed at [^<]+<br>[^<]+<\/p>/.exec(page)?.[0] ?? '';
    expect(banner).toMatch(new RegExp(`^<p class="banner critical">Config reload failed at \\S+Z: ${configFile.replace(/[.]/g, '\\.')}:\\d+:\\d+: .*<br>the exporter keeps running the config loaded at \\S+Z\\.</p>$`));
    expect(page).not.toContain('shop-password');
    expect(page.indexOf('Config reload failed')).toBeLessThan(page.indexOf('<section id="summary">'));
    await writeFile(configFile, goodConfig);
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect((await get(`${exporter.url}/`)).text).not.toContain('reload failed');
  });
});

describe('landing page: a failed web config reload', () => {
  let exporter: RunningCli;

  afterAll(() => {
    exporter?.child.kill('SIGKILL');
  });

  it('shows a banner until a good web config loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-landing-web-'));
    const web = join(dir, 'web.yml');
    await writeFile(web, 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n');
    await writeFile(join(dir, 'kkt.yml'), 'sources: []\n');
    exporter = await startCli([`--config.file=${join(dir, 'kkt.yml')}`, `--web.config.file=${web}`]);
    await writeFile(web, 'http_server_config:\n  headers: 7\n');
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(500);
    const page = (await get(`${exporter.url}/`)).text;
    expect(page).toMatch(new RegExp(`<p class="banner critical">Web config reload failed at \\S+Z: ${web.replace(/[.]/g, '\\.')}:2:\\d+: [^<]+<br>the exporter keeps the web config loaded at \\S+Z\\.</p>`));
    expect(page).not.toContain('Config reload failed');
    await writeFile(web, 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n');
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect((await get(`${exporter.url}/`)).text).not.toContain('reload failed');
  });
});
