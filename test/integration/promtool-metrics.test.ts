import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';

describe('a full /metrics answer with all four sources', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;
  let text: string;

  beforeAll(async () => {
    fleet = await SimulatedFleet.start(demoFleet());
    app = await startExporter(fleet.exporterConfig({ ukmEndpoints: ['paper', 'ofd'] }));
    text = (await get(`${app.url}/metrics`)).text;
  }, 20_000);

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('holds every source, X-report totals and the process metrics', () => {
    for (const source of ['stores', 'atol-cloud', 'bk', 'kz']) expect(text).toContain(`kkt_probe_success{source="${source}"} `);
    expect(text).toMatch(/^kkt_xreport_all_operations\{/m);
    expect(text).toMatch(/^process_open_fds /m);
    expect(text).toMatch(/^nodejs_active_handles\{/m);
  });

  it('passes promtool check metrics with no warning at all', () => {
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) throw new Error('promtool not found: run scripts/install-test-deps.sh (Debian package prometheus)');
    expect(promtool.stdout + promtool.stderr).toBe('');
    expect(promtool.status).toBe(0);
  });
});
