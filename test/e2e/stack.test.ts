/**
 * End to end with the real tools: the simulator, the exporter, Prometheus and Alertmanager (Debian
 * packages, installed by scripts/install-test-deps.sh) on 127.0.0.1, each in its own process, with
 * the example configs adapted to loopback ports and the example rules (their `for:` shortened).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually, firstLine, freePort, need, Processes, query as queryProm, ROOT, startPrometheusAndAlertmanager, type QueryResult } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'kkt-e2e-'));
const processes = new Processes();

let promUrl = '';
let amUrl = '';
let control = '';

const query = (expr: string): Promise<QueryResult[]> => queryProm(promUrl, expr);

async function activeAlerts(): Promise<Array<{ labels: Record<string, string> }>> {
  return (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string> }>;
}

beforeAll(async () => {
  for (const b of ['prometheus', 'promtool', 'prometheus-alertmanager', 'amtool']) need(b);
  const [exporterPort, promPort, amPort] = [await freePort(), await freePort(), await freePort()];
  promUrl = `http://127.0.0.1:${promPort}`;
  amUrl = `http://127.0.0.1:${amPort}`;

  const sim = processes.start(process.execPath, ['dist/simulator/cli.js', '--demo', `--config-out=${join(dir, 'kkt.yml')}`]);
  control = (await firstLine(sim, /"control":"([^"]+)"/))[1] as string;
  const exporter = processes.start(process.execPath, ['dist/cli.js', `--config.file=${join(dir, 'kkt.yml')}`, `--web.listen-address=127.0.0.1:${exporterPort}`]);
  await firstLine(exporter, /msg=listening/);

  // The example rules, with every `for:` cut to 5s so that the run takes seconds, not minutes.
  const rules = parse(readFileSync(join(ROOT, 'examples/alerts/kkt-alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ for?: string }> }> };
  for (const g of rules.groups) for (const r of g.rules) if (r.for) r.for = '5s';
  writeFileSync(join(dir, 'rules.yml'), stringify(rules));
  writeFileSync(join(dir, 'targets.yml'), stringify([{ targets: ['70000', '70001', '70002', '70003'], labels: { source: 'kz' } }]));

  const prom = parse(readFileSync(join(ROOT, 'prometheus.yml.example'), 'utf8'));
  prom.global = { scrape_interval: '10s', scrape_timeout: '9s', evaluation_interval: '2s' };
  prom.rule_files = [join(dir, 'rules.yml')];
  prom.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${amPort}`];
  const [kkt, probe] = prom.scrape_configs;
  kkt.static_configs[0].targets = [`127.0.0.1:${exporterPort}`];
  probe.file_sd_configs[0].files = [join(dir, 'targets.yml')];
  probe.relabel_configs.find((r: { target_label?: string }) => r.target_label === '__address__').replacement = `127.0.0.1:${exporterPort}`;

  const am = parse(readFileSync(join(ROOT, 'examples/alertmanager.yml'), 'utf8'));
  Object.assign(am.route, { group_wait: '1s', group_interval: '1s', repeat_interval: '1m' });
  await startPrometheusAndAlertmanager(processes, dir, { prom: promPort, am: amPort }, prom, am);
}, 60_000);

afterAll(async () => {
  await processes.stop();
});

describe('the exporter with real Prometheus and Alertmanager', () => {
  it('is scraped by both jobs with up == 1', async () => {
    const up = await eventually('both jobs scraped', async () => {
      const r = await query('up');
      const jobs = new Set(r.filter((s) => s.value[1] === '1').map((s) => s.metric.job));
      return jobs.has('kkt') && jobs.has('kkt-probe') && r.length === 5 ? r : undefined;
    });
    expect(up.every((s) => s.value[1] === '1')).toBe(true);
  }, 120_000);

  it('answers every dashboard query and every recording rule with data', async () => {
    type Panel = { title?: string; targets?: Array<{ expr?: string }>; panels?: Panel[] };
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'examples/grafana/kkt-overview.json'), 'utf8')) as { panels: Panel[] };
    // The panels of a collapsed row are kept in the row's `panels`.
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    const exprs = panels.flatMap((p) => p.targets ?? []).map((t) => t.expr).filter((e): e is string => !!e);
    expect(exprs.length).toBeGreaterThan(30);
    // BusinessKassa's shift seen open past 24 h needs a day of readings, which this Prometheus lacks:
    // asked from 0 h, the problem still has to select the demo's open BusinessKassa shifts.
    const sinceStart = (e: string) => (e.includes('opened="last_seen_closed"') ? e.replace(/\/ 3600 > \d+/, '/ 3600 >= 0') : e);
    const substituted = exprs.map((e) => sinceStart(e.replaceAll('$job', '.*').replaceAll('$source', '.*').replaceAll('$__rate_interval', '1m')));
    const records = (parse(readFileSync(join(dir, 'rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> }).groups
      .flatMap((g) => g.rules)
      .map((r) => r.record)
      .filter((r): r is string => !!r);
    // Rates need two scrapes of the exporter first; the recording rules one evaluation after that.
    await eventually('rates to have data', async () => ((await query('rate(kkt_exporter_requests_total[1m])')).length > 0 ? true : undefined));
    await eventually('the recording rules to have data', async () => ((await query('source:kkt_up:count')).length > 0 ? true : undefined));
    // The kkt variable is one register (kkt="$kkt"): a drill-down query answers for some register of the fleet.
    const registers = [...new Set((await query('kkt_up')).map((s) => s.metric.kkt as string))];
    expect(registers.length).toBeGreaterThan(20);
    const promString = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
    const empty: string[] = [];
    for (const expr of [...substituted, ...records]) {
      const candidates = expr.includes('$kkt') ? registers.map((k) => expr.replaceAll('$kkt', promString(k))) : [expr];
      let answered = false;
      for (const e of candidates) {
        const result = await eventually(`a valid answer to ${e}`, () => query(e), 10_000);
        if (result.length > 0) { answered = true; break; }
      }
      if (!answered) empty.push(expr);
    }
    expect(empty).toEqual([]);
    // "Longest open shifts" has the demo's open shifts of every vendor that reports one, each age from its own rule.
    const shifts = await query('kkt:shift_open_age_seconds');
    const opened = Object.fromEntries(shifts.map((s) => [s.metric.opened, s.metric.source]));
    expect(Object.keys(opened).sort()).toEqual(['first_seen', 'last_seen_closed', 'vendor']);
    // The problem table's data link opens the drill-down with the row's kkt and source: every row has
    // both, and names a register the kkt variable offers (label_values(kkt_up{...}, kkt)).
    const table = panels.find((p) => p.title === 'Registers that need attention');
    const tableExprs = (table?.targets ?? []).map((t) => (t.expr ?? '').replaceAll('$job', '.*').replaceAll('$source', '.*'));
    expect(tableExprs.length).toBeGreaterThan(10);
    for (const expr of tableExprs) {
      for (const row of await query(expr)) {
        expect(row.metric.kkt, expr).toBeTruthy();
        expect(row.metric.source, expr).toBeTruthy();
        expect(row.metric.problem, expr).toBeTruthy();
        const up = await query(`kkt_up{source="${promString(row.metric.source as string)}", kkt="${promString(row.metric.kkt as string)}"}`);
        expect(up.length, `${row.metric.source}/${row.metric.kkt}`).toBeGreaterThan(0);
      }
    }
  }, 180_000);

  it('delivers the demo fleet\'s faults to Alertmanager, and resolves paper-out once the paper is back', async () => {
    const wanted = ['KktPaperOut', 'KktUnsentDocumentsOld', 'KktFnExpiringSoon', 'KktShiftOpenLong', 'KktShiftExpired', 'KktFnFlagUrgentReplacement', 'KktStoreUnreachable', 'KktRegisterDown'];
    const alerts = await eventually('the alerts in Alertmanager', async () => {
      const a = await activeAlerts();
      return wanted.every((n) => a.some((x) => x.labels.alertname === n)) ? a : undefined;
    });
    expect(alerts.find((a) => a.labels.alertname === 'KktPaperOut')?.labels).toMatchObject({ kkt: 'msk-012-pos02', source: 'stores', store: '012', severity: 'critical' });
    expect(alerts.find((a) => a.labels.alertname === 'KktShiftOpenLong')?.labels).toMatchObject({ kkt: '70001', source: 'kz' });
    // The demo's Kassa24 shift past 24 h has the service's "expired" status, and still pages.
    expect(alerts.find((a) => a.labels.alertname === 'KktShiftExpired')?.labels).toMatchObject({ kkt: '70003', source: 'kz', severity: 'critical' });
    expect(alerts.find((a) => a.labels.alertname === 'KktFnFlagUrgentReplacement')?.labels).toMatchObject({ source: 'bk', flag: 'urgent_replacement', severity: 'critical' });
    // Store 205 has every till off: one store alert. Store 101 is closed now (the demo's hours), so
    // its powered-off till spb-101-pos04 does not page, while the tills of the open store 205 do.
    expect(alerts.filter((a) => a.labels.alertname === 'KktStoreUnreachable').map((a) => a.labels.store)).toEqual(['205']);
    const down = alerts.filter((a) => a.labels.alertname === 'KktRegisterDown').map((a) => a.labels.kkt).sort();
    expect(down).toEqual(['kzn-205-pos01', 'kzn-205-pos02', 'kzn-205-pos03']);

    const res = await fetch(`${control}/ukm/msk-012-pos02`, { method: 'PATCH', body: JSON.stringify({ state: { paper: true } }) });
    expect(res.status).toBe(200);
    await eventually('KktPaperOut to resolve', async () => ((await activeAlerts()).some((a) => a.labels.alertname === 'KktPaperOut') ? undefined : true));
  }, 180_000);
});

describe('the example configs pass the real tools\' own checks', () => {
  it('promtool check config prometheus.yml.example (with its rules)', () => {
    const r = spawnSync('promtool', ['check', 'config', 'prometheus.yml.example'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout).toMatch(/SUCCESS: prometheus\.yml\.example is valid/);
    expect(r.stdout).toMatch(/SUCCESS: 59 rules found/);
    expect(r.status).toBe(0);
  });

  it('amtool check-config examples/alertmanager.yml', () => {
    const r = spawnSync('amtool', ['check-config', 'examples/alertmanager.yml'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});
