/**
 * The FN replacement plan as an engineer gets it: ATOL registers set through the simulator's control
 * API show up in /fn.csv with their reason and date, and an FN swapped without re-registration is flagged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorArgs } from '../../src/simulator/args.js';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { get, scrapeSeries, startExporter, type RunningExporter } from '../support/exporter.js';

const DAY = 86_400_000;
const ATOL = ['00107700000000', '00107700000001', '00107700000002'];

async function patch(url: string, body: unknown): Promise<number> {
  return (await fetch(url, { method: 'PATCH', body: JSON.stringify(body) })).status;
}

describe('GET /fn.csv', () => {
  let fleet: SimulatedFleet;
  let control: string;
  let app: RunningExporter;
  const expiry = new Date(Date.now() + 5 * DAY).toISOString().slice(0, 19) + 'Z';

  beforeAll(async () => {
    fleet = await SimulatedFleet.start(simulatorArgs(['--atol=3']).spec);
    control = await fleet.startControl();
    app = await startExporter(fleet.exporterConfig({}));
    expect(await patch(`${control}/atol/registers/${ATOL[0]}`, { fiscalStorageExpiration: expiry, fiscalStorageSerialNumber: '9999000000000001' })).toBe(200);
    await scrapeSeries(app);
    // ATOL[1] gets a new FN with the same RNM and fiscalisation date; ATOL[2] a new one properly re-registered.
    expect(await patch(`${control}/atol/registers/${ATOL[1]}`, { fiscalStorageSerialNumber: '9999000000000002' })).toBe(200);
    expect(await patch(`${control}/atol/registers/${ATOL[2]}`, { fiscalStorageSerialNumber: '9999000000000003', fiscalizationDate: new Date().toISOString().slice(0, 19) + 'Z' })).toBe(200);
    await scrapeSeries(app);
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('answers CSV with a header and the rows due within days, with reason and date', async () => {
    const res = await get(`${app.url}/fn.csv?days=30`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/csv; charset=utf-8');
    const lines = res.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('store,source,kkt,fn_serial,date,reason');
    expect(lines).toContain(`,atol-cloud,${ATOL[0]},9999000000000001,${expiry.slice(0, 10)},expires`);
    expect(lines.filter((l) => l.includes('swapped'))).toEqual([
      expect.stringMatching(new RegExp(`^,atol-cloud,${ATOL[1]},9999000000000002,[0-9-]*,"FN swapped without re-registration: serial \\d+ -> 9999000000000002, same RNM and fiscalisation date"$`)),
    ]);
  });

  it('shows the plan on the landing page and refuses a days out of bounds', async () => {
    const page = await get(`${app.url}/`);
    expect(page.text).toContain('FN replacement plan');
    expect(page.text).toContain('9999000000000001');
    const bad = await get(`${app.url}/fn.csv?days=99999`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('days must be a whole number from 1 to 3650');
  });

  it('takes the same days on the landing page: an FN expiring in 5 days is not listed within 3, and the page links the CSV of the same horizon', async () => {
    const within3 = await get(`${app.url}/?days=3`);
    expect(within3.status).toBe(200);
    const section = within3.text.slice(within3.text.indexOf('id="fn-plan"'), within3.text.indexOf('id="recent"'));
    expect(section).toContain('within 3 days');
    expect(section).toContain('href="fn.csv?days=3"');
    expect(section).not.toContain('9999000000000001');
    expect(section).toContain('9999000000000002');
    expect(within3.text).not.toContain('id="list"');
    expect((await get(`${app.url}/?days=0`)).status).toBe(400);
  });
});
