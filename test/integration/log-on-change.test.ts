import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exporter } from '../../src/exporter/exporter.js';
import { Logger, streamSink } from '../../src/log.js';
import { createApp } from '../../src/server/app.js';
import { listen } from '../../src/server/listen.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { closeServer, get } from '../support/exporter.js';

const REGISTERS = 20;
const OFF = 5;
const SCRAPES = 10;

/** 20 healthy tills, the first 5 powered off. */
function fleetSpec() {
  return { ukm: generatedUkmFleet(REGISTERS).map((r, i) => ({ ...r, ...(i < OFF ? { fault: 'refused' as const } : {}) })) };
}

describe('the process log says when a register changes, not on every scrape', () => {
  let fleet: SimulatedFleet;
  let exporter: Exporter;
  let server: Server;
  let url: string;
  /** The process log as `--log.level=info --log.format=logfmt` writes it to stderr. */
  const lines: string[] = [];
  const sourceLines = () => lines.filter((l) => l.includes(' source=stores '));
  const scrape = async () => expect((await get(`${url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' })).status).toBe(200);

  beforeAll(async () => {
    fleet = await SimulatedFleet.start(fleetSpec());
    const configFile = join(await mkdtemp(join(tmpdir(), 'kkt-log-on-change-')), 'kkt-exporter.yml');
    await writeFile(configFile, fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] }));
    exporter = new Exporter({ configFile, timeoutOffsetSeconds: 0.5, log: new Logger(streamSink('logfmt', (l) => lines.push(l.trimEnd())), 'info') });
    expect((await exporter.reload()).ok).toBe(true);
    ({ server, url } = await listen(createApp(exporter), { host: '127.0.0.1', port: 0 }));
    for (let i = 0; i < SCRAPES; i++) await scrape();
  }, 60_000);

  afterAll(async () => {
    if (server) await closeServer(server);
    await exporter?.close();
    await fleet?.stop();
  });

  it(`over ${SCRAPES} scrapes of ${REGISTERS} tills with ${OFF} off: one line per till going down, one summary line per scrape`, () => {
    const logged = sourceLines();
    const down = logged.filter((l) => l.includes('msg="register unreachable"'));
    const summaries = logged.filter((l) => / msg="\d+ of \d+ registers not read: /.test(l));
    expect(down).toHaveLength(OFF);
    for (let i = 0; i < OFF; i++) expect(down[i]).toMatch(new RegExp(`level=warn source=stores kkt=pos0000${i} .*err="connection refused"`));
    expect(summaries).toHaveLength(SCRAPES);
    expect(summaries[0]).toMatch(/level=info source=stores msg="5 of 20 registers not read: 5 connection refused"$/);
    expect(logged).toHaveLength(OFF + SCRAPES);
  });

  it("keeps each scrape's per-register detail in /logs and /probe?debug=true", async () => {
    const last = exporter.history.list().find((r) => r.source === 'stores' && r.target === undefined);
    const page = await get(`${url}/logs?id=${last?.id}`);
    for (let i = 0; i < OFF; i++) expect(page.text).toMatch(new RegExp(`level=warn source=stores kkt=pos0000${i} url=\\S+ failed="paper: connection refused; ofd: not read: .*" msg="register not read"`));
    const debug = await get(`${url}/probe?source=stores&target=pos00001&debug=true`);
    expect(debug.text).toMatch(/kkt=pos00001 .*msg="register not read"/);
  });

  it('says once when a till comes back, with how long it was down', async () => {
    const before = sourceLines().length;
    await fleet.ukm.get('pos00002')?.setFault(undefined);
    // Past min_interval: a read of the till younger than that is shared, not made again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await scrape();
    await scrape();
    const logged = sourceLines().slice(before);
    expect(logged.filter((l) => l.includes('msg="register reachable again"'))).toEqual([expect.stringMatching(/level=info source=stores kkt=pos00002 down_for=\d+s msg="register reachable again"$/)]);
    expect(logged.filter((l) => l.includes('registers not read'))).toEqual([
      expect.stringMatching(/msg="4 of 20 registers not read: 4 connection refused"$/),
      expect.stringMatching(/msg="4 of 20 registers not read: 4 connection refused"$/),
    ]);
    expect(logged).toHaveLength(3);
  });

  it('keeps the states of the registers across a reload: the tills still off are not logged again', async () => {
    await writeFile(exporter.configFile, fleet.exporterConfig({ ukmEndpoints: ['paper'] }));
    expect((await exporter.reload()).ok).toBe(true);
    const before = sourceLines().length;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await scrape();
    expect(sourceLines().slice(before)).toEqual([expect.stringMatching(/msg="4 of 20 registers not read: 4 connection refused"$/)]);
  });
});
