import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../../test/support/metrics.js';
import { Logger, type LogRecord } from '../log.js';
import { PROBE_METRICS, REGISTER_METRICS, type ScrapeMetricDef } from '../readings/catalog.js';
import { MAX_KKT_CHARS, MAX_LABEL_VALUE_CHARS, TRUNCATED_MARKER, unreadReading, type SourceReading, type RegisterReading } from '../readings/reading.js';
import { generatedAtolFleet, generatedAtolRecord } from '../simulator/atol.js';
import { parseAtolRegister } from '../sources/atol/parse.js';
import { parseBkRegister } from '../sources/businesskassa/parse.js';
import { logTruncatedLabels, recordReading } from '../sources/records.js';
import { ukmRegister } from '../sources/ukm/config.js';
import { escapeHelp, renderSourceChunks, renderSourceReadings } from './render.js';

describe('renderSourceReadings', () => {
  const text = renderSourceReadings([
    {
      source: 'stores',
      success: true,
      durationSeconds: 1.5,
      registers: [
        {
          kkt: 'pos "1"',
          labels: { store: 'a\\b' },
          up: true,
          info: { url: 'http://x\ny' },
          samples: [
            { metric: 'kkt_unsent_docs', value: 3 },
            { metric: 'kkt_scale_weight', value: Number.NaN },
            { metric: 'kkt_fn_usage_percent', value: Number.POSITIVE_INFINITY },
          ],
          endpoints: [{ endpoint: 'ofd', success: true }],
        },
      ],
    },
  ]);

  it('escapes label values as the text format requires', () => {
    expect(text).toContain('kkt_up{source="stores",kkt="pos \\"1\\"",store="a\\\\b"} 1');
    expect(text).toContain('url="http://x\\ny"');
    expect(parseMetrics(text).find((s) => s.name === 'kkt_info')?.labels).toEqual({ source: 'stores', kkt: 'pos "1"', store: 'a\\b', url: 'http://x\ny' });
  });

  it('never writes NaN or Infinity, and leaves a family with no series out', () => {
    expect(text).not.toMatch(/NaN|Inf/);
    expect(text).not.toContain('kkt_scale_weight');
    expect(text).not.toContain('kkt_fn_usage_percent');
  });

  it('writes HELP and TYPE once per family, register metrics before probe metrics', () => {
    expect(text.match(/# TYPE kkt_up gauge/g)).toHaveLength(1);
    expect(text.indexOf('kkt_unsent_docs{')).toBeLessThan(text.indexOf('kkt_probe_success{'));
    expect(text).toContain('kkt_probe_endpoint_success{source="stores",kkt="pos \\"1\\"",store="a\\\\b",endpoint="ofd"} 1');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('rendering a scrape', () => {
  const reading = (kkt: string, unsent: number): RegisterReading => ({
    kkt,
    labels: {},
    up: true,
    info: {},
    samples: [{ metric: 'kkt_unsent_docs', value: unsent }],
    endpoints: [{ endpoint: 'ofd', success: true }],
  });

  it('writes the registers in the order of the results, each family once', () => {
    const registers = [reading('a', 1), reading('b', 2), reading('c', 3)];
    const text = renderSourceReadings([{ source: 'stores', success: true, durationSeconds: 6.2, registers }]);
    const unsent = text.split('\n').filter((l) => l.startsWith('kkt_unsent_docs{'));
    expect(unsent).toEqual(['kkt_unsent_docs{source="stores",kkt="a"} 1', 'kkt_unsent_docs{source="stores",kkt="b"} 2', 'kkt_unsent_docs{source="stores",kkt="c"} 3']);
    expect(text.match(/# HELP kkt_unsent_docs /g)).toHaveLength(1);
  });

  it('gives scrapes that end on the same readings (an HA pair) the same register lines and each its own probe metrics', () => {
    const registers = [reading('a', 1), reading('b', 2)];
    const first = renderSourceReadings([{ source: 'stores', success: true, durationSeconds: 6.4, registers }]);
    const second = renderSourceReadings([{ source: 'stores', success: false, durationSeconds: 4.4, registers: [...registers] }]);
    const registerLines = (text: string) => text.split('\n').filter((l) => l.startsWith('kkt_') && !/^kkt_probe_(success|duration_seconds)\{/.test(l));
    expect(registerLines(second)).toEqual(registerLines(first));
    expect(first).toContain('kkt_probe_duration_seconds{source="stores"} 6.4');
    expect(first).toContain('kkt_probe_success{source="stores"} 1');
    expect(second).toContain('kkt_probe_duration_seconds{source="stores"} 4.4');
    expect(second).toContain('kkt_probe_success{source="stores"} 0');
  });

  it("writes a family of register scope once per register, with its kkt, and one of source scope once per source, after every register's", () => {
    const withEverything = (kkt: string): RegisterReading => ({ ...reading(kkt, 1), endpoints: [{ endpoint: 'ofd', success: true }, { endpoint: 'paper', success: false }] });
    const results: SourceReading[] = [
      { source: 'stores', success: true, durationSeconds: 6, registers: [withEverything('a'), withEverything('b')], clockOffsetSeconds: 0 },
      { source: 'depot', success: false, durationSeconds: 2, registers: [withEverything('c')], sourceUp: false, clockOffsetSeconds: 3600 },
    ];
    const series = parseMetrics(renderSourceReadings(results));
    const scopes = { ...REGISTER_METRICS, ...PROBE_METRICS } as Record<string, ScrapeMetricDef>;
    const scopeOf = (name: string) => scopes[name]?.scope;
    const families = [...new Set(series.map((s) => s.name))];
    expect(families.filter((name) => scopeOf(name) === 'source')).toEqual(['kkt_probe_success', 'kkt_probe_duration_seconds', 'kkt_source_up', 'kkt_source_clock_offset_seconds']);
    expect(families.filter((name) => scopeOf(name) === 'register')).toEqual(['kkt_up', 'kkt_info', 'kkt_unsent_docs', 'kkt_probe_endpoint_success']);
    // Every family of register scope comes before any of source scope.
    const lastRegister = series.findLastIndex((s) => scopeOf(s.name) === 'register');
    expect(series.findIndex((s) => scopeOf(s.name) === 'source')).toBe(lastRegister + 1);
    for (const name of families) {
      const kkts = series.filter((s) => s.name === name).map((s) => s.labels.kkt);
      const perEndpoint = name === 'kkt_probe_endpoint_success' ? 2 : 1;
      expect(kkts, name).toEqual(scopeOf(name) === 'register' ? ['a', 'b', 'c'].flatMap((k) => Array(perEndpoint).fill(k)) : [undefined, undefined]);
    }
    expect(series.filter((s) => s.name === 'kkt_probe_endpoint_success' && s.labels.kkt === 'c').map((s) => [s.labels.endpoint, s.value])).toEqual([['ofd', 1], ['paper', 0]]);
  });
});

describe('bounds on identities and label values (issue 24)', () => {
  const hugeSerial = '00107700000000'.padEnd(39_014, 'X');

  it('refuses a register id longer than MAX_KKT_CHARS as a malformed record, without the id, and logs it once', () => {
    const record = { ...generatedAtolRecord(0), serialNumber: hugeSerial };
    const result = parseAtolRegister(record, 'UTC', 'list');
    expect(result).toMatchObject({ ok: false });
    expect(result.ok === false && result.kkt).toBeUndefined();
    const logs: LogRecord[] = [];
    expect(recordReading(result, 'list', new Logger((r) => logs.push(r), 'debug'))).toBeUndefined();
    expect(logs).toHaveLength(1);
    expect(logs[0]?.msg).toBe('register record skipped');
    expect(String(logs[0]?.fields?.err)).toContain(`serialNumber is 39014 characters long, more than the ${MAX_KKT_CHARS}`);
    expect(JSON.stringify(logs).length).toBeLessThan(1000);
    // The same bound for every vendor: a BusinessKassa `sn`.
    expect(parseBkRegister({ sn: hugeSerial, eip: '10.0.0.1:80' }, 'UTC', 'frs')).toMatchObject({ ok: false, error: expect.stringContaining('sn is 39014 characters long') });
    expect(parseAtolRegister({ ...record, serialNumber: 'A'.repeat(MAX_KKT_CHARS) }, 'UTC', 'list').ok).toBe(true);
  });

  it('truncates other label values past MAX_LABEL_VALUE_CHARS with a visible marker, never splitting a character', () => {
    const record = { ...generatedAtolRecord(0), fiscalStoragePaymentAddress: 'shop.example.ru/'.padEnd(39_014, 'a'), groupCode: `${'g'.repeat(MAX_LABEL_VALUE_CHARS - TRUNCATED_MARKER.length - 1)}😀${'tail'.repeat(10)}` };
    const result = parseAtolRegister(record, 'UTC', 'list');
    if (!result.ok) throw new Error(result.error);
    const { info, truncated } = result.reading;
    expect(info.payment_address).toHaveLength(MAX_LABEL_VALUE_CHARS);
    expect(info.payment_address?.startsWith('shop.example.ru/aaa')).toBe(true);
    expect(info.payment_address?.endsWith(TRUNCATED_MARKER)).toBe(true);
    // The emoji's surrogate pair would straddle the cut: it goes whole.
    expect(info.group_code).toBe(`${'g'.repeat(MAX_LABEL_VALUE_CHARS - TRUNCATED_MARKER.length - 1)}${TRUNCATED_MARKER}`);
    expect(truncated).toEqual(['payment_address', 'group_code']);
    const text = renderSourceReadings([{ source: 'atol-cloud', success: true, durationSeconds: 1, registers: [result.reading] }]);
    expect(parseMetrics(text).find((s) => s.name === 'kkt_info')?.labels.payment_address).toBe(info.payment_address);
  });

  it('logs truncated labels once per result, not once per register', () => {
    const readings = generatedAtolFleet(500).map((r) => parseAtolRegister({ ...r, deviceNumber: 'D'.repeat(1000) }, 'UTC', 'list'));
    const logs: LogRecord[] = [];
    logTruncatedLabels(readings.map((r) => (r.ok ? r.reading : unreadReading('x', 'list', r.error))), new Logger((r) => logs.push(r), 'debug'));
    expect(logs).toEqual([expect.objectContaining({ level: 'warn', msg: 'label values too long: truncated', fields: expect.objectContaining({ registers: 500, labels: 'device_number', max_chars: MAX_LABEL_VALUE_CHARS }) })]);
  });

  it('refuses a UKM register name, URL or static label past the bounds in the config', () => {
    const ok = { name: 'pos01', url: 'http://10.0.0.1:8080', labels: { store: '012' } };
    expect(ukmRegister.safeParse(ok).success).toBe(true);
    expect(ukmRegister.safeParse({ ...ok, name: 'p'.repeat(MAX_KKT_CHARS + 1) }).error?.issues[0]?.message).toContain(`at most ${MAX_KKT_CHARS} characters`);
    expect(ukmRegister.safeParse({ ...ok, url: `http://10.0.0.1:8080/${'a'.repeat(MAX_LABEL_VALUE_CHARS)}` }).success).toBe(false);
    expect(ukmRegister.safeParse({ ...ok, labels: { store: 's'.repeat(MAX_LABEL_VALUE_CHARS + 1) } }).error?.issues[0]?.path).toEqual(['labels', 'store']);
  });
});

describe('the answer as chunks (issue 24)', () => {
  const reading = (kkt: string, unsent: number): RegisterReading => ({
    kkt,
    labels: {},
    up: true,
    info: { serial: kkt },
    samples: [{ metric: 'kkt_unsent_docs', value: unsent }],
    endpoints: [{ endpoint: 'list', success: true }],
  });
  const sourceOf = (source: string, n: number): SourceReading => ({
    source,
    success: true,
    durationSeconds: 1.25,
    registers: Array.from({ length: n }, (_, i) => reading(`${source}-${i}`, i % 9)),
  });

  /** What one string of the text format holds for `results` (the single-string renderer's output). */
  function expectedText(results: SourceReading[]): string {
    const family = (name: string, lines: string[]): string => {
      const def = ({ ...REGISTER_METRICS, ...PROBE_METRICS } as Record<string, ScrapeMetricDef>)[name];
      return lines.length ? `# HELP ${name} ${escapeHelp(def!.help)}\n# TYPE ${name} ${def!.type}\n${lines.join('\n')}\n` : '';
    };
    const each = (line: (source: string, r: RegisterReading) => string) => results.flatMap((p) => p.registers.map((r) => line(p.source, r)));
    const lines: Record<string, string[]> = {
      kkt_up: each((s, r) => `kkt_up{source="${s}",kkt="${r.kkt}"} 1`),
      kkt_info: each((s, r) => `kkt_info{source="${s}",kkt="${r.kkt}",serial="${r.kkt}"} 1`),
      kkt_unsent_docs: each((s, r) => `kkt_unsent_docs{source="${s}",kkt="${r.kkt}"} ${r.samples[0]?.value}`),
      kkt_probe_endpoint_success: each((s, r) => `kkt_probe_endpoint_success{source="${s}",kkt="${r.kkt}",endpoint="list"} 1`),
      kkt_probe_success: results.map((p) => `kkt_probe_success{source="${p.source}"} ${p.success ? 1 : 0}`),
      kkt_probe_duration_seconds: results.map((p) => `kkt_probe_duration_seconds{source="${p.source}"} ${p.durationSeconds}`),
      kkt_source_up: results.map((p) => `kkt_source_up{source="${p.source}"} 1`),
    };
    // Families of register scope in the catalog's order, then those of source scope.
    const families = Object.entries({ ...REGISTER_METRICS, ...PROBE_METRICS } as Record<string, ScrapeMetricDef>);
    const names = [...families.filter(([, d]) => d.scope === 'register'), ...families.filter(([, d]) => d.scope === 'source')].map(([n]) => n);
    return names.map((name) => family(name, lines[name] ?? [])).join('');
  }

  it('writes one chunk per family and source, which joined make exactly the single-string text', () => {
    const results = [sourceOf('stores', 5000), sourceOf('atol-cloud', 5000), sourceOf('bk', 5000)];
    const chunks = renderSourceChunks(results);
    expect(chunks.join('')).toBe(expectedText(results));
    // 4 register families and 3 probe families, each a header and then one chunk per source.
    expect(chunks).toHaveLength(7 * 4);
    for (const chunk of chunks) {
      const sources = new Set([...chunk.matchAll(/source="([^"]+)"/g)].map((m) => m[1]));
      expect(chunk.startsWith('# HELP') ? sources.size === 0 && chunk.split('\n').length === 3 : sources.size === 1).toBe(true);
      expect(chunk.endsWith('\n')).toBe(true);
    }
  });

  it('answers a source whose lines cannot be written as failed, and every other source intact', () => {
    const broken = sourceOf('atol-cloud', 3);
    const info = broken.registers[1]!.info;
    Object.defineProperty(info, 'rnm', { enumerable: true, get: () => { throw new RangeError('Invalid string length'); } });
    const failures: Array<[string, unknown]> = [];
    const stores = sourceOf('stores', 2);
    const text = renderSourceChunks([stores, broken, sourceOf('bk', 2)], (source, err) => failures.push([source, err])).join('');
    expect(failures).toEqual([['atol-cloud', new RangeError('Invalid string length')]]);
    const series = parseMetrics(text);
    expect(series.filter((s) => s.labels.source === 'atol-cloud').map((s) => `${s.name} ${s.value}`)).toEqual(['kkt_probe_success 0', 'kkt_probe_duration_seconds 1.25', 'kkt_source_up 1']);
    expect(text).toContain(expectedText([stores]).split('\n').filter((l) => l.startsWith('kkt_unsent_docs{')).join('\n'));
    expect(series.filter((s) => s.name === 'kkt_up').map((s) => s.labels.kkt)).toEqual(['stores-0', 'stores-1', 'bk-0', 'bk-1']);
    expect(valueOfProbe(series, 'bk')).toBe(1);
  });
});

function valueOfProbe(series: ReturnType<typeof parseMetrics>, source: string): number | undefined {
  return series.find((s) => s.name === 'kkt_probe_success' && s.labels.source === source)?.value;
}
