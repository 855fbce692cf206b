import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FN_WARNING_FLAGS } from '../src/readings/catalog.js';
// @ts-expect-error: a plain ESM script without types
import { renderAlerts, RULES_FILE, THRESHOLDS_FILE } from '../scripts/gen-alerts.mjs';

const alertsDir = new URL('../examples/alerts/', import.meta.url).pathname;
const root = new URL('..', import.meta.url);
/** kkt-alerts.test.yml is evaluated every minute; the alerts whose windows run for days are in the long file, every 5. */
const TEST_FILES = ['kkt-alerts.test.yml', 'kkt-alerts.long.test.yml'];

interface AlertRule { alert?: string; record?: string; expr: string; for?: string; labels?: { severity?: string }; annotations?: Record<string, string> }
interface ExpAlert { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }
interface RuleTest { alertname: string; eval_time: string; exp_alerts: ExpAlert[] }

function promtool(...args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { cwd: alertsDir });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', () => reject(new Error('promtool not found: run scripts/install-test-deps.sh (Debian package prometheus)')));
    child.on('close', (status) => resolve({ status, out }));
  });
}

const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const thresholds = () => parse(readFileSync(THRESHOLDS_FILE, 'utf8')) as { runbook_base_url: string; fn_flag_severity: Record<string, string>; opening_grace: string; store_label: string };
const alertRules = () => (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules).filter((r) => r.alert);
const ruleTests = () => TEST_FILES.flatMap((f) => (parse(readFileSync(`${alertsDir}/${f}`, 'utf8')) as { tests: Array<{ alert_rule_test?: RuleTest[] }> }).tests)
  .flatMap((t) => t.alert_rule_test ?? []);

/** The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
const githubAnchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

describe('alert rules', () => {
  it('kkt-alerts.yml is generated from thresholds.yml (run `npm run rules`)', () => {
    expect(renderAlerts(thresholds())).toBe(readFileSync(RULES_FILE, 'utf8'));
  });

  it('pass promtool check rules', async () => {
    const r = await promtool('check', 'rules', 'kkt-alerts.yml');
    expect(r.out).toContain('SUCCESS: 59 rules found');
    expect(r.status).toBe(0);
  });

  // One promtool per file, side by side: each is the slowest test of this file, more so on a busy CI machine.
  it.concurrent.each(TEST_FILES)('pass their promtool unit tests: %s', async (file) => {
    const r = await promtool('test', 'rules', file);
    expect(r.out).not.toContain('FAILED');
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  }, 180_000);

  it('every alert has a unit test in which it fires, and every alert has severity, summary, description and runbook_url', () => {
    const alerts = alertRules();
    const tests = ruleTests();
    const fired = new Set(tests.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname));
    expect(alerts.length).toBe(44);
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Kkt[A-Z][A-Za-z]+$/);
      expect(fired, `${a.alert} has no firing test`).toContain(a.alert);
      expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
      expect(a.annotations?.summary).toBeTruthy();
      expect(a.annotations?.description).toMatch(/\{\{/);
      expect(a.annotations?.runbook_url).toMatch(/^https?:\/\//);
      expect(a.for).toBeTruthy();
    }
    // promtool compares annotations exactly; this only says so up front.
    for (const t of tests) for (const e of t.exp_alerts) expect(e.exp_annotations?.runbook_url, `${t.alertname} at ${t.eval_time}`).toBeTruthy();
  });

  it('every recording rule (read by the Grafana dashboard) has a promtool test of its value', () => {
    const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);
    const records = rules.flatMap((r) => (r.record ? [r.record] : []));
    expect(records.length).toBeGreaterThan(0);
    const tested = new Set(TEST_FILES.flatMap((f) => (parse(readFileSync(`${alertsDir}/${f}`, 'utf8')) as { tests: Array<{ promql_expr_test?: Array<{ expr: string; exp_samples: unknown[] }> }> }).tests)
      .flatMap((t) => t.promql_expr_test ?? []).filter((e) => e.exp_samples.length > 0).map((e) => e.expr.trim()));
    for (const r of records) expect(tested, `${r} has no promql_expr_test`).toContain(r);
  });

  it('the FN flags of thresholds.yml are exactly the flags the exporter sets, one alert each with its severity', () => {
    const severity = thresholds().fn_flag_severity;
    expect(Object.keys(severity).sort()).toEqual(Object.keys(FN_WARNING_FLAGS).sort());
    const alerts = alertRules();
    for (const [flag, sev] of Object.entries(severity)) {
      const a = alerts.filter((r) => r.expr === `kkt_fn_warning_flag{flag="${flag}"} == 1`);
      expect(a, flag).toHaveLength(1);
      expect(a[0]?.labels?.severity).toBe(sev);
    }
    // The bit-mask alert would page a second time for the same flags.
    expect(alerts.map((a) => a.alert)).not.toContain('KktFnWarningFlags');
    expect(alerts.filter((a) => a.expr.includes('kkt_fn_warning_flags'))).toEqual([]);
  });

  it('the alerts for what is normal in a closed store wait for its trading hours; the legal clocks never do', () => {
    const grace = thresholds().opening_grace;
    const registerClosed = `unless on(job, instance, source, kkt) (min_over_time(kkt_trading[${grace}]) == 0)`;
    const gated = ['KktRegisterDown', 'KktRegisterDownCritical', 'KktDataStale', 'KktDataStaleCritical', 'KktPaperOut', 'KktVisionLinkDown',
      'KktEndpointFailing', 'KktShiftOpenLong', 'KktShiftExpired', 'KktShiftOpenLongNoTimestamp', 'KktShiftExpiredNoTimestamp',
      'KktShiftPossiblyExpired', 'KktBlocksSoon'];
    const alerts = alertRules();
    for (const a of alerts) {
      if (gated.includes(a.alert as string)) expect(a.expr, a.alert).toContain(registerClosed);
      else expect(a.expr.includes(registerClosed), a.alert).toBe(false);
    }
    // A source or a store is closed only when every register of it is.
    const expr = (name: string) => alerts.find((a) => a.alert === name)?.expr ?? '';
    expect(expr('KktSourceFailing')).toMatch(/^kkt_source_up == 0 unless on\(job, instance, source\) \(max by \(job, instance, source\) \(min_over_time\(kkt_trading\[/);
    expect(expr('KktStoreUnreachable')).toContain(`unless on(store) (max by (store) (min_over_time(kkt_trading{store!=""}[${grace}])) == 0)`);
    for (const legal of ['KktUnsentDocumentsOld', 'KktUnsentDocumentsNearBlock', 'KktUnsentDocumentsStuckCritical', 'KktOfflineDocumentsNearBlock',
      'KktRegisterBlocked', 'KktFnExpiringCritical', 'KktFnFull', 'KktFnNotFiscal', 'KktOfdLinkLost']) expect(expr(legal), legal).not.toContain('kkt_trading');
  });

  it('every alert on unsent documents says which country\'s rule it is: Kassa24\'s offline queue never feeds a Russian one', () => {
    const kassa24 = 'on(job, instance, source, kkt) present_over_time(kkt_info{id_kkm!=""}';
    for (const a of alertRules().filter((r) => r.expr.includes('kkt_unsent_docs'))) {
      const kazakh = a.expr.includes(`and ${kassa24}`);
      const russian = a.expr.includes(`unless ${kassa24}`) || a.expr.includes('present_over_time(kkt_info{url!=""}');
      expect(kazakh !== russian, a.alert).toBe(true);
      expect(kazakh, a.alert).toBe((a.alert as string).startsWith('KktOfflineDocuments'));
    }
  });

  it('the store label is the one thresholds.yml names, and must be a label name', () => {
    const shop = renderAlerts({ ...thresholds(), store_label: 'shop' }) as string;
    const rule = (parse(shop) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules).find((r) => r.alert === 'KktStoreUnreachable');
    expect(rule?.expr).toMatch(/^\(count by \(shop\) \(kkt_up\{shop!=""\} == 0\) >= 2\)/);
    expect(rule?.annotations?.description).toContain('{{ $labels.shop }}');
    expect(() => renderAlerts({ ...thresholds(), store_label: 'store name' })).toThrow(/store_label/);
  });

  it('time to block: one recording per reason, and the earliest of them per register', () => {
    const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<AlertRule & { labels?: { reason?: string } }> }> }).groups.flatMap((g) => g.rules);
    const reasons = rules.filter((r) => r.record === 'kkt:block_timestamp_seconds').map((r) => r.labels?.reason);
    expect(reasons.sort()).toEqual(['fn_expiry', 'fn_full', 'kz_offline_72h', 'ofd_30_days', 'shift_24h']);
    const records = rules.flatMap((r) => (r.record ? [r.record] : []));
    expect(records.lastIndexOf('kkt:block_timestamp_seconds')).toBeLessThan(records.indexOf('kkt:block_timestamp_seconds:earliest'));
  });

  it('every alert\'s runbook_url points at its own `## <AlertName>` section of docs/alerts.md, and every section at an alert', () => {
    const base = thresholds().runbook_base_url;
    expect(base).toMatch(/^https:\/\/.+\/docs\/alerts\.md$/);
    const headings = [...read('docs/alerts.md').matchAll(/^## (.+)$/gm)].map((m) => (m[1] as string).trim());
    const anchors = new Set(headings.map(githubAnchor));
    const alerts = alertRules();
    for (const a of alerts) {
      const url = a.annotations?.runbook_url ?? '';
      expect(url, a.alert).toBe(`${base}#${githubAnchor(a.alert as string)}`);
      expect(anchors, `${a.alert}: no "## ${a.alert}" in docs/alerts.md`).toContain(url.slice(url.indexOf('#') + 1));
    }
    expect(headings.sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('the README\'s alert table names every alert, with its severity, and no other', () => {
    const readme = read('README.md');
    const start = readme.indexOf('### What each alert means for a store');
    expect(start).toBeGreaterThan(0);
    const rows = readme.slice(start).split('\n').filter((l) => l.startsWith('| `Kkt'));
    const listed = new Map<string, string>();
    for (const row of rows) {
      const [names = '', severities = ''] = row.split('|').slice(1, 3);
      const alertNames = [...names.matchAll(/`(Kkt[A-Za-z]+)`/g)].map((m) => m[1] as string);
      const sev = severities.trim().split(/\s*\/\s*/);
      // "a / b | warning / critical" pairs them up; one severity covers every name of the row.
      expect(sev.length === 1 || sev.length === alertNames.length, row).toBe(true);
      alertNames.forEach((n, i) => {
        expect(listed.has(n), `${n} listed twice`).toBe(false);
        listed.set(n, (sev.length === 1 ? sev[0] : sev[i]) as string);
      });
    }
    const alerts = alertRules();
    expect([...listed.keys()].sort()).toEqual(alerts.map((a) => a.alert).sort());
    for (const a of alerts) expect(listed.get(a.alert as string), a.alert).toBe(a.labels?.severity);
  });
});
