import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { encodeAnswer, GZIP_LEVEL, MIN_GZIP_BYTES, SYNC_GZIP_BELOW, wantsGzip } from '../../src/server/compress.js';
import { startExporter, type RunningExporter } from '../support/exporter.js';
import { parseMetrics, type Series } from '../support/metrics.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** A GET with node:http, which (unlike fetch) leaves the body as it came: gzip'd or not. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The text of an answer: gunzipped when it says it is gzip'd. */
const textOf = (a: RawAnswer): string => (a.headers['content-encoding'] === 'gzip' ? gunzipSync(a.raw) : a.raw).toString('utf8');

const key = (s: Series): string =>
  `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

/** Series of the registers (not the exporter's own, not timings), by name and labels, with their values. */
const registerValues = (series: Series[]): Map<string, number> =>
  new Map(series.filter((s) => s.name.startsWith('kkt_') && !s.name.startsWith('kkt_exporter_') && !s.name.endsWith('_seconds')).map((s) => [key(s), s.value]));

describe('gzip on /metrics and /probe (4 UKM registers on [paper], 50 ATOL registers)', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(4), atol: { registers: generatedAtolFleet(50) } });
    app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper'] }));
  });
  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('gives the same series with and without Accept-Encoding: gzip, compressed only when asked', async () => {
    // Both at once, as an HA pair: the second joins the first's reads, so the registers' values agree.
    const [gz, plain] = await Promise.all([
      rawGet(`${app.url}/metrics`, { 'Accept-Encoding': 'gzip' }),
      rawGet(`${app.url}/metrics`),
    ]);
    expect(gz.status).toBe(200);
    expect(plain.status).toBe(200);

    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe(CONTENT_TYPE);
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(Number(gz.headers['content-length'])).toBe(gz.raw.length);
    expect(gz.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // the gzip magic

    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toBe(CONTENT_TYPE);
    expect(plain.headers.vary).toBe('Accept-Encoding');

    const unzipped = gunzipSync(gz.raw).toString('utf8');
    expect(gz.raw.length).toBeLessThan(Buffer.byteLength(unzipped) / 3);
    const a = parseMetrics(unzipped);
    const b = parseMetrics(plain.raw.toString('utf8'));
    expect(new Set(a.map(key))).toEqual(new Set(b.map(key)));
    const registers = registerValues(a);
    expect(registers.size).toBeGreaterThan(4 + 50);
    expect(registers).toEqual(registerValues(b));
    expect(a.filter((s) => s.name === 'kkt_up' && s.value === 1)).toHaveLength(54);
  });

  it.each([
    ['gzip;q=0', false],
    ['GZIP;Q=0.000, deflate', false],
    ['identity', false],
    ['br, deflate', false],
    ['', false],
    ['*', true],
    ['gzip, deflate, br', true],
    ['x-gzip', true],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['*;q=0.5, gzip;q=0', false],
    ['identity;q=0.9, gzip;q=0.5', false],
  ])('Accept-Encoding "%s" on /metrics: gzip %s', async (header, gzipped) => {
    const res = await rawGet(`${app.url}/metrics`, { 'Accept-Encoding': header });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe(gzipped ? 'gzip' : undefined);
    expect(res.headers['content-type']).toBe(CONTENT_TYPE);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(parseMetrics(textOf(res)).some((s) => s.name === 'kkt_up')).toBe(true);
  });

  it('compresses /probe too, with the same series as the plain answer', async () => {
    const [gz, plain] = await Promise.all([
      rawGet(`${app.url}/probe?source=atol-cloud`, { 'Accept-Encoding': 'gzip' }),
      rawGet(`${app.url}/probe?source=atol-cloud`, { 'Accept-Encoding': 'gzip;q=0' }),
    ]);
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe(CONTENT_TYPE);
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const a = parseMetrics(gunzipSync(gz.raw).toString('utf8'));
    const b = parseMetrics(plain.raw.toString('utf8'));
    expect(a.filter((s) => s.name === 'kkt_up')).toHaveLength(50);
    expect(registerValues(a)).toEqual(registerValues(b));
  });

  it('leaves a small /probe answer plain, unless identity is refused', async () => {
    // An unknown ATOL serial: kkt_up 0 and the probe's own series, under 2 KiB.
    const url = `${app.url}/probe?source=atol-cloud&target=00000000000000`;
    const plain = await rawGet(url, { 'Accept-Encoding': 'identity' });
    expect(plain.raw.length, 'the premise: this answer is under MIN_GZIP_BYTES').toBeLessThan(MIN_GZIP_BYTES);
    const small = await rawGet(url, { 'Accept-Encoding': 'gzip' });
    expect(small.status).toBe(200);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.headers['content-type']).toBe(CONTENT_TYPE);
    expect(small.headers.vary).toBe('Accept-Encoding');
    const forced = await rawGet(url, { 'Accept-Encoding': 'gzip, identity;q=0' });
    expect(forced.headers['content-encoding']).toBe('gzip');
    const a = parseMetrics(gunzipSync(forced.raw).toString('utf8'));
    expect(a.find((s) => s.name === 'kkt_up')?.value).toBe(0);
    expect(new Set(a.map(key))).toEqual(new Set(parseMetrics(small.raw.toString('utf8')).map(key)));
  });

  it('answers /probe?debug=true and the error texts plain, for a person', async () => {
    const debug = await rawGet(`${app.url}/probe?source=atol-cloud&debug=true`, { 'Accept-Encoding': 'gzip' });
    expect(debug.status).toBe(200);
    expect(debug.headers['content-encoding']).toBeUndefined();
    expect(debug.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(debug.raw.toString('utf8')).toContain('Metrics that would have been returned:');
    const bad = await rawGet(`${app.url}/probe?source=nope`, { 'Accept-Encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-encoding']).toBeUndefined();
  });
});

describe('Accept-Encoding negotiation and the fallback', () => {
  it.each([
    [undefined, 5000, false],
    ['gzip', 5000, true],
    ['gzip', MIN_GZIP_BYTES - 1, false],
    ['gzip;q=0', 5000, false],
    ['gzip; q=0.001', 5000, true],
    ['gzip;q=1.5', 5000, false], // not a weight: the element is ignored
    ['gzip;q=abc, *', 5000, true],
    ['*', 5000, true],
    ['*;q=0', 5000, false],
    ['*;q=0, identity', 5000, false],
    ['gzip, identity;q=0', 10, true],
    ['*, identity;q=0', 10, true],
    ['*;q=0', 10, false], // nothing acceptable: plain rather than a 406
    ['identity;q=0', 5000, false],
    ['gzip;q=0.5, identity;q=0.5', 5000, true],
    ['gzip;q=0.5, identity', 5000, false],
    ['deflate , GZip ; level=1', 5000, true],
  ])('Accept-Encoding %j, %i bytes: gzip %s', (header, bytes, expected) => {
    expect(wantsGzip(header, bytes)).toBe(expected);
  });

  it(`compresses at level ${GZIP_LEVEL}, small answers in place and large ones on the thread pool`, async () => {
    for (const lines of [200, 20_000]) {
      const body = 'kkt_up{source="stores",kkt="a"} 1\n'.repeat(lines);
      expect(body.length < SYNC_GZIP_BELOW).toBe(lines === 200);
      const ok = await encodeAnswer(body, 'gzip');
      expect(ok.gzip).toBe(true);
      expect(gunzipSync(ok.body as Buffer).toString('utf8')).toBe(body);
    }
  });

  it('compresses an answer given as chunks (the way /metrics gives it) as one gzip stream, small or large', async () => {
    for (const lines of [20, 5000]) {
      const chunks = ['# HELP kkt_up x\n# TYPE kkt_up gauge\n', ...['stores', 'atol-cloud', 'bk'].map((s) => `kkt_up{source="${s}",kkt="касса"} 1\n`.repeat(lines))];
      const ok = await encodeAnswer(chunks, 'gzip');
      expect(ok.gzip).toBe(true);
      expect(gunzipSync(ok.body as Buffer).toString('utf8')).toBe(chunks.join(''));
    }
  });

  it('answers the plain text when compression fails, asynchronously or not', async () => {
    const body = 'kkt_up{kkt="a"} 1\n'.repeat(200);
    const rejected = await encodeAnswer(body, 'gzip', () => Promise.reject(new Error('zlib out of memory')));
    expect(rejected).toEqual({ body, gzip: false, error: new Error('zlib out of memory') });
    const thrown = await encodeAnswer(body, 'gzip', () => {
      throw new RangeError('bad level');
    });
    expect(thrown).toEqual({ body, gzip: false, error: new RangeError('bad level') });
  });
});
