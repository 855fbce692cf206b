import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';

/**
 * gzip level of the scrape answers: 1, for speed, as Go's promhttp favours. Level 6 saves a quarter
 * of the bytes, which a LAN carries in a few ms, for twice the CPU (docs/benchmark.md, scenario 6).
 */
export const GZIP_LEVEL = 1;
/**
 * Answers smaller than this stay uncompressed (unless the client refuses identity): one register of a
 * cloud source on `/probe` is about 1.4 KiB, where gzip saves a few hundred bytes for its fixed cost.
 */
export const MIN_GZIP_BYTES = 2048;
/**
 * Answers shorter than this (in characters) are compressed synchronously: zlib's asynchronous gzip has a fixed cost
 * per call (a stream and a hop to the thread pool) larger than gzipSync's on such an answer, and a
 * large share of a single-register `/probe`'s whole cost (docs/benchmark.md). Larger answers, a large
 * fleet's `/metrics` above all, go to the thread pool, off the event loop.
 */
export const SYNC_GZIP_BELOW = 64 * 1024;

/** A weight (RFC 9110 §12.4.2): 0 to 1, at most three decimals; anything else is not a weight. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** The weights an Accept-Encoding header gives each coding it names (lower case; `x-gzip` as `gzip`). */
function weights(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const element of header.split(',')) {
    const [name = '', ...params] = element.split(';').map((p) => p.trim());
    if (name === '') continue;
    let q = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const v = p.slice(eq + 1).trim();
      q = QVALUE.test(v) ? Number(v) : NaN;
    }
    if (Number.isNaN(q)) continue; // a malformed weight: the element is ignored
    const coding = name.toLowerCase() === 'x-gzip' ? 'gzip' : name.toLowerCase();
    // A coding named twice: the higher weight wins.
    out.set(coding, Math.max(q, out.get(coding) ?? 0));
  }
  return out;
}

/**
 * Whether to gzip an answer of `bytes` bytes for a request with this Accept-Encoding (RFC 9110
 * §12.5.3). No header, or an empty one: plain. gzip's weight is that of `gzip` (or `x-gzip`), else
 * of `*`, else 0; `q=0` refuses it. identity's weight is that of `identity`, else of `*`; when
 * neither is named, identity is acceptable but the least preferred. identity is refused by
 * `identity;q=0`, or by `*;q=0` without an entry for identity. gzip is chosen when its weight is
 * above 0 and at least identity's (a tie goes to gzip, as in Go's promhttp), except that an answer
 * under MIN_GZIP_BYTES stays plain while identity is acceptable at all. When nothing is acceptable
 * the answer is plain (the RFC's SHOULD): a scrape answered in identity beats a 406.
 */
export function wantsGzip(acceptEncoding: string | undefined, bytes: number): boolean {
  if (acceptEncoding === undefined) return false;
  const w = weights(acceptEncoding);
  const star = w.get('*');
  const gzipQ = w.get('gzip') ?? star ?? 0;
  if (gzipQ <= 0) return false;
  const identityQ = w.get('identity') ?? star;
  if (identityQ === 0) return true;
  return gzipQ >= (identityQ ?? 0) && bytes >= MIN_GZIP_BYTES;
}

/** A scrape answer: one string, or chunks written one after another (never joined: see Exposition). */
export type ScrapeBody = string | readonly string[];

type GzipFn = (chunks: readonly string[], level: number) => Promise<Buffer>;

/** The answer's length in UTF-16 code units: a lower bound of its UTF-8 bytes, counted without reading it. */
function lengthOf(chunks: readonly string[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/**
 * zlib's asynchronous gzip of the chunks in turn, as one gzip stream: the work runs on libuv's
 * thread pool, off the event loop, and each chunk becomes bytes only when zlib takes it.
 */
export const gzipAsync: GzipFn = async (chunks, level) => {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), createGzip({ level }), async (compressed: AsyncIterable<Buffer>) => {
    for await (const b of compressed) out.push(b);
  });
  return Buffer.concat(out);
};

/** gzipSync for a small answer, the thread pool for a large one (see SYNC_GZIP_BELOW). */
export const gzipAnswer: GzipFn = async (chunks, level) => (lengthOf(chunks) < SYNC_GZIP_BELOW ? gzipSync(chunks.join(''), { level }) : gzipAsync(chunks, level));

export type EncodedAnswer = { body: ScrapeBody | Buffer; gzip: boolean; error?: unknown };

/**
 * The answer to send for `body`: gzip-compressed when the request's Accept-Encoding asks for it
 * (see wantsGzip), else the text itself. A failed compression gives the plain text and the error,
 * never a lost scrape.
 */
export async function encodeAnswer(body: ScrapeBody, acceptEncoding: string | undefined, compress: GzipFn = gzipAnswer): Promise<EncodedAnswer> {
  if (acceptEncoding === undefined) return { body, gzip: false };
  const chunks = typeof body === 'string' ? [body] : body;
  // Bytes >= UTF-16 units, so a long answer needs no byte count.
  const length = lengthOf(chunks);
  const bytes = length >= MIN_GZIP_BYTES ? length : Buffer.byteLength(chunks.join(''));
  if (!wantsGzip(acceptEncoding, bytes)) return { body, gzip: false };
  try {
    return { body: await compress(chunks, GZIP_LEVEL), gzip: true };
  } catch (error) {
    return { body, gzip: false, error };
  }
}
