/**
 * Issue 24, item 6: one source's answer never costs the others. 1,400 ATOL registers with
 * 39,014-character serials (each page under the 4 MiB cap) used to take `/metrics` past V8's
 * longest string: HTTP 500, the healthy UKM source gone too, RSS at 1 GB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { MAX_KKT_CHARS, MAX_LABEL_VALUE_CHARS, TRUNCATED_MARKER } from '../../src/readings/reading.js';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf } from '../support/metrics.js';

const REGISTERS = 1400;
const SERIAL_CHARS = 39_014;
/** What the scrape may add to the process (exporter and simulator together): it took 1 GB. */
const RSS_GROWTH_BAR = 400 * 1024 * 1024;

let fleet: SimulatedFleet;
let control: string;
let app: RunningExporter;

/** Switches the simulated ATOL fleet to `registers` whose `field` is `length` characters long. */
async function oversize(field: string, length: number): Promise<void> {
  const res = await fetch(`${control}/atol`, { method: 'PATCH', body: JSON.stringify({ oversized: { registers: REGISTERS, field, length } }) });
  expect(res.status).toBe(200);
}

/** GET /metrics (gzip, as Prometheus asks), with the process's peak RSS growth while it ran. */
async function scrapeWatchingRss(): Promise<{ status: number; text: string; rssGrowth: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const watch = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    const res = await get(`${app.url}/metrics`, { 'Accept-Encoding': 'gzip' });
    return { ...res, rssGrowth: Math.max(peak, process.memoryUsage.rss()) - before };
  } finally {
    clearInterval(watch);
  }
}

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(2), atol: { registers: generatedAtolFleet(3) } });
  control = await fleet.startControl();
  const config = parse(fleet.exporterConfig({ ukmEndpoints: ['paper'] })) as { sources: Array<Record<string, unknown>> };
  // A serial is sent three times per record (its data and two links): 25 records keep a page under 4 MiB.
  Object.assign(config.sources.find((s) => s.type === 'atol') as object, { page_size: 25 });
  app = await startExporter(stringify(config));
});

afterAll(async () => {
  await app?.stop();
  await fleet?.stop();
});

describe(`${REGISTERS} ATOL registers beside a healthy UKM source`, () => {
  it(`with ${SERIAL_CHARS}-character serials: 200, UKM intact, every ATOL register refused with a log line, RSS bounded`, async () => {
    await oversize('serialNumber', SERIAL_CHARS);
    const logsBefore = app.logs.length;
    const { status, text, rssGrowth } = await scrapeWatchingRss();
    expect(status).toBe(200);
    const series = parseMetrics(text);
    expect(valueOf(series, 'kkt_probe_success', { source: 'stores' })).toBe(1);
    expect(find(series, 'kkt_up', { source: 'stores' }).map((s) => s.value)).toEqual([1, 1]);
    expect(valueOf(series, 'kkt_paper_present', { source: 'stores', kkt: 'pos00001' })).toBe(1);
    expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(0);
    expect(find(series, 'kkt_up', { source: 'atol-cloud' })).toEqual([]);
    expect(text.length).toBeLessThan(1 << 20);

    const logs = app.logs.slice(logsBefore);
    const refused = logs.filter((r) => r.msg === 'register record skipped');
    expect(refused).toHaveLength(REGISTERS);
    expect(String(refused[0]?.fields?.err)).toContain(`serialNumber is ${SERIAL_CHARS} characters long, more than the ${MAX_KKT_CHARS} a register id may have`);
    // No log line carries a serial.
    expect(Math.max(...logs.map((r) => JSON.stringify(r).length))).toBeLessThan(2000);
    expect(rssGrowth).toBeLessThan(RSS_GROWTH_BAR);
  });

  it(`with ${SERIAL_CHARS}-character payment addresses: every register read, the address truncated with a marker, one log line a scrape`, async () => {
    await oversize('fiscalStoragePaymentAddress', SERIAL_CHARS);
    const logsBefore = app.logs.length;
    const { status, text, rssGrowth } = await scrapeWatchingRss();
    expect(status).toBe(200);
    const series = parseMetrics(text);
    expect(valueOf(series, 'kkt_probe_success', { source: 'stores' })).toBe(1);
    expect(valueOf(series, 'kkt_probe_success', { source: 'atol-cloud' })).toBe(1);
    const info = find(series, 'kkt_info', { source: 'atol-cloud' });
    expect(info).toHaveLength(REGISTERS);
    for (const s of info) {
      expect(s.labels.payment_address).toHaveLength(MAX_LABEL_VALUE_CHARS);
      expect(s.labels.payment_address?.endsWith(TRUNCATED_MARKER)).toBe(true);
    }
    const truncated = app.logs.slice(logsBefore).filter((r) => r.msg === 'label values too long: truncated');
    expect(truncated).toEqual([expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ source: 'atol-cloud', registers: REGISTERS, labels: 'payment_address' }) })]);
    expect(rssGrowth).toBeLessThan(RSS_GROWTH_BAR);
    // Plain, the same answer goes out chunk by chunk.
    const plain = await get(`${app.url}/metrics`, { 'Accept-Encoding': 'identity' });
    expect(find(parseMetrics(plain.text), 'kkt_info', { source: 'atol-cloud' })).toHaveLength(REGISTERS);
  });
});
