/**
 * A cloud source's known registers outlive a config reload that keeps the source: with the vendor
 * failing, a password rotation must not turn kkt_up 0 into no series at all (KktRegisterDown would
 * never fire, the FN alerts would silently resolve). A reload that removes the source drops them.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { get, scrapeSeries, startExporter, type RunningExporter } from '../support/exporter.js';
import { find } from '../support/metrics.js';

let fleet: SimulatedFleet;
let app: RunningExporter;
let passwordFile: string;
let control: string;

const ukmSource = (f: SimulatedFleet) => `  - { name: stores, type: ukm, endpoints: [paper], registers: [{ name: pos01, url: "${f.ukm.registers[0]?.url}" }] }\n`;
const atolSource = (f: SimulatedFleet, extra = '') =>
  `  - { name: atol-cloud, type: atol, url: "${f.atol?.url}", login: ${f.atol?.login}, password_file: "${passwordFile}"${extra} }\n`;

async function reload(config: string): Promise<void> {
  await writeFile(app.configFile, config);
  expect((await fetch(`${app.url}/-/reload`, { method: 'POST' })).status).toBe(200);
}

const atolUp = async () => find(await scrapeSeries(app), 'kkt_up', { source: 'atol-cloud' }).map((s) => [s.labels.kkt, s.value]);

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(1), atol: { registers: generatedAtolFleet(4) } });
  control = await fleet.startControl();
  passwordFile = join(await mkdtemp(join(tmpdir(), 'kkt-reload-')), 'atol-password');
  await writeFile(passwordFile, fleet.atol?.password ?? '');
  app = await startExporter(`sources:\n${ukmSource(fleet)}${atolSource(fleet)}`);
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

describe('known registers across POST /-/reload', () => {
  it('stay known, kkt_up 0 and on the landing page, after a reload while the vendor fails; a reload that removes the source drops them', async () => {
    const serials = fleet.atol?.registers.map((r) => r.serialNumber) ?? [];
    expect(await atolUp()).toEqual(serials.map((k) => [k, 1]));

    const fault = await fetch(`${control}/faults`, { method: 'PATCH', body: JSON.stringify({ vendor: 'atol', fault: 'http500' }) });
    expect(fault.status).toBe(200);
    expect(await atolUp()).toEqual(serials.map((k) => [k, 0]));

    // A password rotation: a new secret in the file, and a reload.
    await writeFile(passwordFile, 'rotated-password');
    await reload(`sources:\n${ukmSource(fleet)}${atolSource(fleet)}`);
    const page = (await get(`${app.url}/`)).text;
    expect(page).toContain('atol-cloud <small>(atol, 4 registers)</small>');
    for (const k of serials) expect(page).toContain(`<b>${k}</b>`);
    expect(await atolUp()).toEqual(serials.map((k) => [k, 0]));

    // Any other change to the source keeps them as well.
    await reload(`sources:\n${ukmSource(fleet)}${atolSource(fleet, ', page_size: 2')}`);
    expect(await atolUp()).toEqual(serials.map((k) => [k, 0]));

    await reload(`sources:\n${ukmSource(fleet)}`);
    expect(await atolUp()).toEqual([]);
    expect((await get(`${app.url}/`)).text).not.toContain(serials[0]);
    // Added back while the vendor still fails, the source knows nothing from before its removal.
    await reload(`sources:\n${ukmSource(fleet)}${atolSource(fleet)}`);
    expect(await atolUp()).toEqual([]);
    expect((await get(`${app.url}/`)).text).toContain('atol-cloud <small>(atol, 0 registers)</small>');
  });
});
