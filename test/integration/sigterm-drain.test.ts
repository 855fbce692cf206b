/**
 * SIGTERM drains, as Go's http.Server.Shutdown does: no new connections, the scrapes in flight
 * answered (within --web.shutdown-timeout, then with what they have), then exit 0; a second signal
 * exits at once.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { get, startExporter } from '../support/exporter.js';
import { find, parseMetrics } from '../support/metrics.js';

let fleet: SimulatedFleet;
let config: string;
const running: RunningCli[] = [];

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(1) });
  // Three endpoints a second apart, each answered in 0.5 s: a scrape of about 3 s.
  for (const r of fleet.ukm.registers) r.server.delayMs = 500;
  config = join(await mkdtemp(join(tmpdir(), 'kkt-sigterm-')), 'kkt.yml');
  await writeFile(config, fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd', 'user_role_id'] }));
});

afterEach(async () => {
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
  await sleep(1100); // the register's rate gate is free for the next test
});

afterAll(async () => {
  await fleet?.stop();
});

async function start(args: string[] = []): Promise<RunningCli> {
  const cli = await startCli([`--config.file=${config}`, ...args]);
  running.push(cli);
  return cli;
}

/** Scrapes /metrics, resolving with when the answer came (ms after `t0`) and its endpoint results. */
async function scrape(url: string, t0: number) {
  const res = await fetch(`${url}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '10' } });
  const text = await res.text();
  const endpoints = find(parseMetrics(text), 'kkt_probe_endpoint_success', { source: 'stores' }).map((s) => [s.labels.endpoint, s.value]);
  return { status: res.status, at: performance.now() - t0, endpoints };
}

/** When the process exited (ms after `t0`) and its code. */
async function exit(cli: RunningCli, t0: number): Promise<{ code: number | string; at: number }> {
  const code = await cli.exited;
  return { code, at: performance.now() - t0 };
}

describe('SIGTERM during a 3 s scrape', () => {
  it('lets the scrape finish with its whole answer, refuses new connections, then exits 0', async () => {
    const cli = await start();
    const t0 = performance.now();
    const answered = scrape(cli.url, t0);
    const exited = exit(cli, t0);
    await sleep(1200);
    cli.child.kill('SIGTERM');
    await sleep(200);
    await expect(fetch(`${cli.url}/-/ready`)).rejects.toThrow();

    const res = await answered;
    expect(res.status).toBe(200);
    expect(res.endpoints).toEqual([
      ['paper', 1],
      ['ofd', 1],
      ['user_role_id', 1],
    ]);
    expect(res.at).toBeGreaterThan(2500);
    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(at).toBeGreaterThanOrEqual(res.at);
    expect(at - res.at).toBeLessThan(1000);
    expect(cli.output()).toMatch(/signal=SIGTERM .*msg="shutting down/);
  }, 15_000);

  it('exits at once on a second signal', async () => {
    const cli = await start();
    const t0 = performance.now();
    const answered = scrape(cli.url, t0).catch((err: unknown) => err);
    const exited = exit(cli, t0);
    await sleep(1200);
    cli.child.kill('SIGTERM');
    await sleep(100);
    const second = performance.now() - t0;
    cli.child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code).toBe(1);
    expect(at - second).toBeLessThan(500);
    expect(await answered).toBeInstanceOf(Error); // the scrape was given up with the process
  }, 15_000);

  it('answers with what it has once --web.shutdown-timeout has passed', async () => {
    const cli = await start(['--web.shutdown-timeout=1s']);
    const t0 = performance.now();
    const answered = scrape(cli.url, t0);
    const exited = exit(cli, t0);
    await sleep(700);
    cli.child.kill('SIGTERM');
    const res = await answered;
    expect(res.status).toBe(200);
    // At 1.7 s the second endpoint was in flight and the third not reached: both cut off.
    expect(res.endpoints).toEqual([
      ['paper', 1],
      ['ofd', 0],
      ['user_role_id', 0],
    ]);
    expect(res.at).toBeLessThan(2300);
    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(at).toBeLessThan(3000);
  }, 15_000);

  it('refuses a --web.shutdown-timeout that is not a duration', async () => {
    await expect(startCli([`--config.file=${config}`, '--web.shutdown-timeout=soon'])).rejects.toThrow(/--web.shutdown-timeout must be a duration/);
  });
});

describe('/-/ready while draining', () => {
  it('answers 503 saying the exporter is shutting down', async () => {
    const app = await startExporter(fleet.exporterConfig());
    try {
      app.exporter.drain();
      const res = await get(`${app.url}/-/ready`);
      expect([res.status, res.text]).toEqual([503, 'Not ready: shutting down\n']);
    } finally {
      await app.stop();
    }
  });
});
