/**
 * The store-level topology of examples/remote-write/: each region has its own exporter and a
 * Prometheus in agent mode (`--enable-feature=agent`) that remote-writes to a central Prometheus
 * (`--web.enable-remote-write-receiver`), which alone evaluates the project's rules and sends the
 * alerts to Alertmanager. Two regions on loopback, one simulated chain of 4 tills split between them.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually, firstLine, freePort, need, Processes, query, ROOT, startPrometheusAndAlertmanager } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'kkt-remote-write-'));
const processes = new Processes();
const REGIONS = ['a', 'b'] as const;

let promUrl = '';
let amUrl = '';
let control = '';
/** The tills of each region, by name. */
const tills: Record<string, string[]> = {};
const exporters: Record<string, { process: ChildProcess; address: string }> = {};

interface Alert {
  labels: Record<string, string>;
}
const activeAlerts = async (): Promise<Alert[]> => (await (await fetch(`${amUrl}/api/v2/alerts?active=true`)).json()) as Alert[];
const paperOut = (alerts: Alert[]) => alerts.filter((a) => a.labels.alertname === 'KktPaperOut');

function example(name: string): Record<string, any> {
  return parse(readFileSync(join(ROOT, 'examples/remote-write', name), 'utf8')) as Record<string, any>;
}

beforeAll(async () => {
  for (const b of ['prometheus', 'promtool', 'prometheus-alertmanager']) need(b);
  const [promPort, amPort] = [await freePort(), await freePort()];
  promUrl = `http://127.0.0.1:${promPort}`;
  amUrl = `http://127.0.0.1:${amPort}`;

  const sim = processes.start(process.execPath, ['dist/simulator/cli.js', '--ukm=4', `--config-out=${join(dir, 'chain.yml')}`]);
  control = (await firstLine(sim, /"control":"([^"]+)"/))[1] as string;
  const chain = parse(readFileSync(join(dir, 'chain.yml'), 'utf8')) as { sources: Array<{ registers: Array<{ name: string }> }> };
  const all = chain.sources[0]!.registers;

  // Each region: its half of the tills behind its own exporter, scraped by its own agent, built from agent.yml.
  for (const [i, region] of REGIONS.entries()) {
    const registers = all.slice(i * 2, i * 2 + 2);
    tills[region] = registers.map((r) => r.name);
    const config = { ...chain, sources: [{ ...chain.sources[0], registers }] };
    writeFileSync(join(dir, `exporter-${region}.yml`), stringify(config));
    const exporterPort = await freePort();
    const exporter = processes.start(process.execPath, ['dist/cli.js', `--config.file=${join(dir, `exporter-${region}.yml`)}`, `--web.listen-address=127.0.0.1:${exporterPort}`]);
    await firstLine(exporter, /msg=listening/);

    const agent = example('agent.yml');
    agent.global = { ...agent.global, scrape_interval: '10s', scrape_timeout: '9s', external_labels: { region } };
    agent.scrape_configs[0].static_configs[0].targets = [`127.0.0.1:${exporterPort}`];
    for (const r of agent.scrape_configs[0].relabel_configs) r.replacement = `${region}/$1`;
    exporters[region] = { process: exporter, address: `127.0.0.1:${exporterPort}` };
    agent.remote_write[0].url = `${promUrl}/api/v1/write`;
    agent.remote_write[0].queue_config.batch_send_deadline = '1s';
    writeFileSync(join(dir, `agent-${region}.yml`), stringify(agent));
    mkdirSync(join(dir, `agent-${region}`));
    const agentPort = await freePort();
    processes.start('prometheus', ['--enable-feature=agent', `--config.file=${join(dir, `agent-${region}.yml`)}`, `--storage.agent.path=${join(dir, `agent-${region}`)}`, `--web.listen-address=127.0.0.1:${agentPort}`]);
  }

  // The central side: central.yml with the project's rules, every `for:` cut to 5s as in stack.test.ts.
  const rules = parse(readFileSync(join(ROOT, 'examples/alerts/kkt-alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ for?: string }> }> };
  for (const g of rules.groups) for (const r of g.rules) if (r.for) r.for = '5s';
  writeFileSync(join(dir, 'rules.yml'), stringify(rules));
  const central = example('central.yml');
  central.global = { evaluation_interval: '2s' };
  central.rule_files = [join(dir, 'rules.yml')];
  central.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${amPort}`];
  const am = parse(readFileSync(join(ROOT, 'examples/alertmanager.yml'), 'utf8'));
  Object.assign(am.route, { group_wait: '1s', group_interval: '1s', repeat_interval: '1m' });
  await startPrometheusAndAlertmanager(processes, dir, { prom: promPort, am: amPort }, central, am, ['--web.enable-remote-write-receiver']);
}, 60_000);

afterAll(async () => {
  await processes.stop();
});

describe('regions behind Prometheus agents, rules evaluated centrally', () => {
  it('the example configs pass promtool check config (the agent\'s in agent mode)', () => {
    const agent = spawnSync('promtool', ['check', 'config', '--agent', join(ROOT, 'examples/remote-write/agent.yml')], { encoding: 'utf8' });
    expect(agent.status, agent.stdout + agent.stderr).toBe(0);
    const central = spawnSync('promtool', ['check', 'config', join(ROOT, 'examples/remote-write/central.yml')], { encoding: 'utf8' });
    expect(central.status, central.stdout + central.stderr).toBe(0);
    expect(central.stdout).toContain('kkt-alerts.yml');
  });

  it('the central Prometheus has every till of both regions, each series with its region', async () => {
    const up = await eventually('kkt_up of every till centrally', async () => {
      const r = await query(promUrl, 'kkt_up');
      return r.length === 4 ? r : undefined;
    });
    for (const region of REGIONS) {
      expect(up.filter((s) => s.metric.region === region).map((s) => s.metric.kkt).sort()).toEqual(tills[region]);
    }
    expect((await query(promUrl, 'up{job="kkt"}')).map((s) => s.metric.region).sort()).toEqual(['a', 'b']);
    // Instance and exporter carry the region: the rules' on(job, instance, source, kkt) never joins two regions' tills.
    for (const s of up) expect(s.metric.instance, s.metric.kkt).toMatch(new RegExp(`^${s.metric.region}/127\\.0\\.0\\.1:`));
  }, 90_000);

  it('a till out of paper in region b pages centrally with region="b" and its register, nothing for region a, and resolves', async () => {
    const till = tills.b![1]!;
    const off = await fetch(`${control}/ukm/${till}`, { method: 'PATCH', body: JSON.stringify({ state: { paper: false } }) });
    expect(off.status).toBe(200);
    const fired = await eventually('KktPaperOut in Alertmanager', async () => {
      const a = paperOut(await activeAlerts());
      return a.length > 0 ? a : undefined;
    }, 120_000);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.labels).toMatchObject({ alertname: 'KktPaperOut', region: 'b', kkt: till, source: 'stores', severity: 'critical' });
    expect((await activeAlerts()).filter((a) => a.labels.region === 'a')).toEqual([]);

    const back = await fetch(`${control}/ukm/${till}`, { method: 'PATCH', body: JSON.stringify({ state: { paper: true } }) });
    expect(back.status).toBe(200);
    await eventually('KktPaperOut to resolve', async () => (paperOut(await activeAlerts()).length === 0 ? true : undefined), 120_000);
  }, 240_000);

  it('region a\'s exporter killed: one KktExporterDown centrally, named by its region (every region\'s exporter may have the same address)', async () => {
    exporters.a!.process.kill('SIGKILL');
    const down = await eventually('KktExporterDown in Alertmanager', async () => {
      const a = (await activeAlerts()).filter((x) => x.labels.alertname === 'KktExporterDown');
      return a.length > 0 ? a : undefined;
    }, 120_000);
    expect(down.map((a) => a.labels.exporter)).toEqual([`a/${exporters.a!.address}`]);
  }, 150_000);
});
