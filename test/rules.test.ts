import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: a plain ESM script without types
import { renderAlerts, RULES_FILE, THRESHOLDS_FILE } from '../scripts/gen-alerts.mjs';

const alertsDir = new URL('../examples/alerts/', import.meta.url).pathname;

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: alertsDir, encoding: 'utf8' });
  if (r.error) throw new Error('promtool not found: run scripts/install-test-deps.sh (Debian package prometheus)');
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('alert rules', () => {
  it('kkt-alerts.yml is generated from thresholds.yml (run `npm run rules`)', () => {
    const thresholds = parse(readFileSync(THRESHOLDS_FILE, 'utf8'));
    expect(renderAlerts(thresholds)).toBe(readFileSync(RULES_FILE, 'utf8'));
  });

  it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', 'kkt-alerts.yml');
    expect(r.out).toContain('SUCCESS: 30 rules found');
    expect(r.status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool('test', 'rules', 'kkt-alerts.test.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('every alert has a unit test in which it fires, and every alert has severity, summary and description', () => {
    const rules = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; for?: string; labels?: { severity?: string }; annotations?: Record<string, string> }> }> };
    const tests = parse(readFileSync(`${alertsDir}/kkt-alerts.test.yml`, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname));
    expect(alerts.length).toBe(24);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Kkt[A-Z][A-Za-z]+$/);
      expect(fired, `${a.alert} has no firing test`).toContain(a.alert);
      expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
      expect(a.annotations?.summary).toBeTruthy();
      expect(a.annotations?.description).toMatch(/\{\{/);
      expect(a.for).toBeTruthy();
    }
  });
});
