/**
 * Reloads do not accumulate: a retired config generation is released once its scrapes end (at once
 * when none runs), so back-to-back reloads of a large config leave a small heap flat.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { find, parseMetrics } from '../support/metrics.js';

let dir: string;
const running: RunningCli[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-reload-memory-'));
});

afterEach(() => {
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
});

/** A UKM source of `n` registers read only by /probe, about 280 bytes of YAML each (a long address label). */
function largeConfig(n: number): string {
  const registers = Array.from({ length: n }, (_, i) => {
    const store = String(Math.floor(i / 8)).padStart(4, '0');
    const address = `${store} ${'Leningradsky prospekt, building 39, entrance 2, '.repeat(4)}`.slice(0, 180);
    return `      - { name: msk-${store}-pos${i % 8}, url: "http://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080", labels: { store: "${store}", address: "${address}" } }`;
  });
  return ['sources:', '  - name: stores', '    type: ukm', '    probe_only: true', '    registers:', ...registers, ''].join('\n');
}

/**
 * Loaded into the exporter with --import: on SIGUSR2 it collects garbage and prints the heap in use.
 * Test-only, outside the exporter's code.
 */
const HEAP_REPORTER = `process.on('SIGUSR2', () => { globalThis.gc(); globalThis.gc(); process.stderr.write('heap_used_bytes=' + process.memoryUsage().heapUsed + '\\n'); });\n`;

async function heapUsed(cli: RunningCli): Promise<number> {
  const before = cli.output().length;
  cli.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const m = /heap_used_bytes=(\d+)/.exec(cli.output().slice(before));
    if (m) return Number(m[1]);
    await sleep(50);
  }
  throw new Error('no heap report');
}

async function reload(url: string): Promise<number> {
  return (await fetch(`${url}/-/reload`, { method: 'POST' })).status;
}

describe('back-to-back reloads of a large config under a 128 MiB heap', () => {
  it('leave the process serving and its heap flat', async () => {
    const config = join(dir, 'large.yml');
    const text = largeConfig(1500);
    expect(text.length).toBeGreaterThan(400_000);
    await writeFile(config, text);
    const reporter = join(dir, 'heap-reporter.mjs');
    await writeFile(reporter, HEAP_REPORTER);
    const cli = await startCli([`--config.file=${config}`], ['--max-old-space-size=128', '--expose-gc', `--import=${reporter}`]);
    running.push(cli);

    for (let i = 0; i < 50; i++) expect(await reload(cli.url)).toBe(200);
    const warm = await heapUsed(cli);
    for (let i = 0; i < 200; i++) expect(await reload(cli.url)).toBe(200);
    const after = await heapUsed(cli);

    // One generation of this config is some MB: 200 of them kept would not fit at all.
    expect(after - warm).toBeLessThan(8 * 1024 * 1024);
    const res = await get(`${cli.url}/-/ready`);
    expect(res.status).toBe(200);
    expect(cli.child.exitCode).toBeNull();
  }, 120_000);
});

describe('a generation a reload replaced', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(1) });
    app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] }));
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('is closed when its last scrape ends, which still gets its whole answer', async () => {
    const old = app.exporter.sources[0];
    if (!old) throw new Error('no source');
    const closed = vi.spyOn(old, 'close');
    const scrape = get(`${app.url}/metrics`);
    await sleep(300); // the scrape waits for the register's second endpoint, a second after its first
    expect(await reload(app.url)).toBe(200);
    expect(closed).not.toHaveBeenCalled();
    const res = await scrape;
    expect(res.status).toBe(200);
    expect(find(parseMetrics(res.text), 'kkt_probe_endpoint_success', { source: 'stores' }).map((s) => s.value)).toEqual([1, 1]);
    expect(closed).toHaveBeenCalledTimes(1);
  });

  it('is closed under a register read it started that a scrape of the new one goes on with', async () => {
    await sleep(1100); // the register's rate gate is free again
    const old = app.exporter.sources[0];
    if (!old) throw new Error('no source');
    const closed = vi.spyOn(old, 'close');
    const register = fleet.ukm.registers[0];
    if (!register) throw new Error('no register');
    register.server.delayMs = 300;
    // Its deadline (0.7 s) comes before the register's second endpoint may be asked (1.3 s); the later
    // scrape joins its read while the first endpoint is being answered.
    try {
      const early = get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '1.2' });
      await sleep(50);
      expect(await reload(app.url)).toBe(200);
      const late = get(`${app.url}/metrics`, { 'X-Prometheus-Scrape-Timeout-Seconds': '10' });
      await early;
      expect(closed).toHaveBeenCalledTimes(1);
      const res = await late;
      expect(find(parseMetrics(res.text), 'kkt_probe_endpoint_success', { source: 'stores' }).map((s) => [s.labels.endpoint, s.value])).toEqual([
        ['paper', 1],
        ['ofd', 1],
      ]);
    } finally {
      register.server.delayMs = 0;
    }
  });

  it('is closed at once when no scrape reads it', async () => {
    const old = app.exporter.sources[0];
    if (!old) throw new Error('no source');
    const closed = vi.spyOn(old, 'close');
    expect(await reload(app.url)).toBe(200);
    expect(closed).toHaveBeenCalledTimes(1);
  });
});
