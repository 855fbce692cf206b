// Scenario 6: rendering one /metrics answer for a 5,000-register UKM fleet (the exporter's own
// writer, in this process), with every endpoint's samples as a full read gives them; then gzipping
// that answer as a scrape with `Accept-Encoding: gzip` gets it, at the exporter's level and at 6.
// The answer is the list of chunks the server writes one after another (never one string).
import { renderSourceChunks } from '../dist/metrics/render.js';
import { GZIP_LEVEL, gzipAnswer } from '../dist/server/compress.js';
import { median, ukmReading } from './lib.mjs';


/**
 * Compressing the `chunks` as the exporter does (src/server/compress.ts): one gzip stream on the
 * thread pool, each chunk made bytes on the event loop as zlib takes it. Median wall ms of
 * `repeats`, after a warm-up, of the whole and of the chunks' conversion to bytes (the part on the
 * event loop, measured apart); compressed size.
 */
async function benchGzip(chunks, level, repeats) {
  await gzipAnswer(chunks, level);
  const total = [];
  const loop = [];
  let bytes = 0;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    for (const c of chunks) Buffer.from(c, 'utf8');
    const t1 = performance.now();
    bytes = (await gzipAnswer(chunks, level)).length;
    total.push(performance.now() - t1);
    loop.push(t1 - t0);
  }
  const plainBytes = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
  return { level, bytes, ratio: +(plainBytes / bytes).toFixed(1), median_ms: +median(total).toFixed(1), event_loop_ms: +median(loop).toFixed(1) };
}

export async function benchRender(registers = 5000, repeats = 7) {
  const readings = Array.from({ length: registers }, (_, i) =>
    ukmReading(i, {
      kkt: `pos${String(i).padStart(5, '0')}`,
      labels: { store: String(i % 400).padStart(3, '0'), city: i % 2 ? 'msk' : 'spb' },
      url: `http://10.${(i >> 8) & 255}.${i & 255}.3:8080`,
    }),
  );
  const result = { source: 'stores', success: true, durationSeconds: 6.1, registers: readings };
  const times = [];
  let chunks = [];
  for (let i = 0; i < repeats; i++) {
    // Fresh reading objects each time, as each scrape has.
    const fresh = { ...result, registers: readings.map((r) => ({ ...r })) };
    const t0 = performance.now();
    chunks = renderSourceChunks([fresh]);
    times.push(performance.now() - t0);
  }
  const levels = [...new Set([GZIP_LEVEL, 1, 6])].sort((a, b) => a - b);
  const gzip = {};
  for (const level of levels) gzip[level] = await benchGzip(chunks, level, repeats);
  const text = chunks.join('');
  return {
    registers,
    series: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
    bytes: Buffer.byteLength(text),
    median_ms: +median(times).toFixed(1),
    gzip_level: GZIP_LEVEL,
    gzip_bytes: gzip[GZIP_LEVEL].bytes,
    gzip_ms: gzip[GZIP_LEVEL].median_ms,
    gzip,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.dir(await benchRender(), { depth: null });
