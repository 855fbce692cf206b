/**
 * Any number of distinct `/probe` targets inside `allowed_targets` leaves the exporter serving
 * (issue 24, item 4): the state kept for targets not in the config is bounded. Before the bound,
 * 21,071 targets under a 128 MiB heap killed the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { MAX_AD_HOC_TARGETS } from '../../src/sources/source.js';
import type { UkmRegisterPool } from '../../src/sources/ukm/reads.js';
import { scrapeSeries, startExporter } from '../support/exporter.js';
import { find, parseMetrics, valueOf } from '../support/metrics.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const agent = new Agent({ connections: 32 });
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await agent.close();
});

/** The n-th distinct loopback target with nothing listening on it: refused at once. */
const target = (n: number) => `127.${1 + ((n >> 16) % 250)}.${(n >> 8) & 255}.${n & 255}:${1 + (n % 3)}`;

/** Probes `count` distinct targets, `concurrency` at a time; the HTTP statuses seen, counted. */
async function flood(base: string, count: number, concurrency = 32): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const res = await request(`${base}/probe?source=stores&target=${target(next++)}`, { dispatcher: agent });
      await res.body.dump();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

describe('ad-hoc /probe targets are bounded', () => {
  it(`keeps the state of at most ${MAX_AD_HOC_TARGETS} of them (plus those still within min_interval), and the configured register's`, async () => {
    const fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(1) });
    const app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper'] }));
    try {
      expect(valueOf(await scrapeSeries(app), 'kkt_up', { source: 'stores' })).toBe(1);
      expect(await flood(app.url, 3 * MAX_AD_HOC_TARGETS)).toEqual({ 200: 3 * MAX_AD_HOC_TARGETS });
      await new Promise((r) => setTimeout(r, 1100)); // past min_interval: no gate guards its register any more
      await flood(app.url, 1);
      const pool = app.exporter.vendorStates.of('ukm') as UkmRegisterPool;
      expect(pool.sizes.adHoc).toBeLessThanOrEqual(MAX_AD_HOC_TARGETS);
      expect(pool.sizes.reads).toBeLessThanOrEqual(MAX_AD_HOC_TARGETS + 1);
      expect(pool.sizes.gates).toBeLessThanOrEqual(MAX_AD_HOC_TARGETS + 1);
      expect(app.exporter.status.adHocCount('stores')).toBe(MAX_AD_HOC_TARGETS);
      expect(app.exporter.status.register('stores', fleet.ukm.registers[0]?.name ?? '')).toBeDefined();
      expect(valueOf(await scrapeSeries(app), 'kkt_up', { source: 'stores' })).toBe(1);
      expect(fleet.ukm.violations).toEqual([]);
    } finally {
      await app.stop();
      await fleet.stop();
    }
  }, 30_000);

  it('25,000 distinct targets against a 128 MiB heap leave the process serving /metrics and /-/healthy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-ad-hoc-'));
    const configFile = join(dir, 'kkt-exporter.yml');
    await writeFile(configFile, 'sources:\n  - {name: stores, type: ukm, endpoints: [paper, ofd], allowed_targets: [127.0.0.0/8]}\n');
    const port = await freePort();
    const child = spawn(process.execPath, ['--max-old-space-size=128', CLI, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let output = '';
    let exited: string | undefined;
    child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200, () => `${exited}: ${output}`);
    expect(await flood(base, 25_000, 64)).toEqual({ 200: 25_000 });
    expect(exited, output).toBeUndefined();
    const healthy = await request(`${base}/-/healthy`, { dispatcher: agent });
    await healthy.body.dump();
    expect(healthy.statusCode).toBe(200);
    const metrics = await request(`${base}/metrics`, { dispatcher: agent });
    const series = parseMetrics(await metrics.body.text());
    expect(metrics.statusCode).toBe(200);
    expect(find(series, 'kkt_probe_success', { source: 'stores' })).toHaveLength(1);
    // The bounded state is a few MiB; the heap before the bound grew past 128 MiB.
    expect(valueOf(series, 'nodejs_heap_size_used_bytes')).toBeLessThan(96 * 1024 * 1024);
  }, 90_000);
});

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function until(ready: () => Promise<boolean>, why: () => string): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await ready()) return;
  throw new Error(`not ready in 10 s: ${why()}`);
}
