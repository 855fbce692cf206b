import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: a plain ESM script without types
import { PROBLEM_TABLE, renderDashboard, TIME_TO_BLOCK_TABLE } from '../scripts/gen-dashboard.mjs';
import { VENDORS } from '../src/sources/vendors.js';

const ROOT = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

function lint(file: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/dockerfile-utils/bin/dockerfile-utils'), 'lint', file], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('passes the Dockerfile linter (which does flag a broken one)', () => {
    expect(lint(join(ROOT, 'Dockerfile'))).toEqual({ status: 0, out: '' });
    const broken = join(tmpdir(), 'Dockerfile.broken');
    writeFileSync(broken, 'FROM node:24\nEXPOSE ten-thousand\n');
    expect(lint(broken).out).toMatch(/Invalid containerPort/);
  });

  it('is multi-stage on the exact Node of .node-version (the one CI tests on), runs as non-root, exposes 10054', () => {
    const version = read('.node-version').trim();
    expect(version).toMatch(/^24\.\d+\.\d+$/);
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([`node:${version}-bookworm-slim`, `node:${version}-bookworm-slim`]);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 10054$/m);
    expect(dockerfile).toMatch(/--config\.file=\/etc\/kkt-exporter\/kkt-exporter\.yml/);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) expect(existsSync(join(ROOT, m[1] as string)), m[1]).toBe(true);
  });

  it('checks health with the shipped command, which the build compiles from src/ (see test/integration/healthcheck.test.ts)', () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK (--\S+ )*CMD \["node", "\/app\/dist\/healthcheck\.js"\]$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(existsSync(join(ROOT, 'src/healthcheck.ts'))).toBe(true);
  });

  it('ships the alert thresholds where the landing page looks for them by default (/app is dist/..)', async () => {
    const { DEFAULT_THRESHOLDS_FILE } = await import('../src/status/thresholds.js');
    const underApp = DEFAULT_THRESHOLDS_FILE.slice(ROOT.length); // examples/alerts/thresholds.yml
    expect(underApp).toBe('examples/alerts/thresholds.yml');
    expect(dockerfile).toMatch(new RegExp(`^WORKDIR /app$[\\s\\S]*^COPY ${underApp} \\./${underApp}$`, 'm'));
  });

  it('CI fetches the same Node from the npm registry, for the whole suite on it', () => {
    expect(read('scripts/test-all.sh')).toMatch(/\.node-version/);
    expect(read('scripts/install-node.sh')).toMatch(/npm pack "\$pkg@\$version"/);
    const ci = read('.ci/run');
    expect(ci).toMatch(/^npm ci && npm run test:all$/m);
  });
});

describe('examples/docker-compose.yml', () => {
  const compose = parse(read('examples/docker-compose.yml')) as { services: Record<string, { volumes?: string[]; command?: string[]; build?: { context: string; dockerfile: string } }> };

  it('runs the exporter in demo mode with Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'grafana', 'kkt-exporter', 'prometheus']);
    expect(compose.services['kkt-exporter']?.command).toContain('--demo');
    expect(compose.services['kkt-exporter']?.build).toEqual({ context: '..', dockerfile: 'examples/compose/Dockerfile' });
  });

  it('mounts files that exist, and Prometheus there loads the rules and scrapes the exporter', () => {
    for (const svc of Object.values(compose.services)) {
      for (const v of svc.volumes ?? []) expect(existsSync(join(ROOT, 'examples', v.split(':')[0] as string)), v).toBe(true);
    }
    const prom = parse(read('examples/compose/prometheus.yml')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
    expect(prom.rule_files).toEqual(['/etc/prometheus/alerts/kkt-alerts.yml']);
    expect(prom.scrape_configs.map((j) => j.job_name)).toEqual(['kkt', 'kkt-probe']);
    expect(prom.scrape_configs[0]?.static_configs[0]?.targets).toEqual(['kkt-exporter:10054']);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read('examples/grafana/kkt-overview.json')) as {
    uid: string;
    templating: { list: Array<{ name: string }> };
    panels: Array<{ type: string; title: string; targets?: Array<{ expr?: string }>; datasource?: { uid?: string } }>;
  };

  it('starts with the datasource, job, source and kkt variables', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'source', 'kkt']);
  });

  it('filters every register query by job and source, through the datasource variable', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(20);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.expr, p.title).toMatch(/job=~"\$job"/);
    }
    const titles = panels.map((p) => p.title);
    for (const wanted of ['Registers up', 'Out of paper', 'Registers that need attention', 'Fullest FNs (%)', 'Longest open shifts (hours)']) expect(titles).toContain(wanted);
  });

  it('has Grafana provisioning for the datasource and the dashboard', () => {
    const ds = parse(read('examples/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ type: string }> };
    const dash = parse(read('examples/grafana/provisioning/dashboards/kkt.yml')) as { providers: Array<{ options: { path: string } }> };
    expect(ds.datasources[0]?.type).toBe('prometheus');
    expect(dash.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
  });

  // The drill-down on a fleet of thousands: one register at a time, reached from the problem table.
  interface Link { title: string; url: string }
  interface Panel {
    type: string; title: string; collapsed?: boolean; panels?: Panel[];
    targets?: Array<{ expr?: string; legendFormat?: string }>;
    transformations?: Array<{ id: string; options: { excludeByName?: Record<string, boolean>; renameByName?: Record<string, string>; sort?: Array<{ field: string; desc: boolean }> } }>;
    fieldConfig?: {
      defaults?: { links?: Link[]; thresholds?: { steps: Array<{ color: string; value: number | null }> } };
      overrides?: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: unknown }> }>;
    };
  }
  const text = read('examples/grafana/kkt-overview.json');
  const board = JSON.parse(text) as { uid: string; templating: { list: Array<Record<string, unknown>> }; panels: Panel[] };
  /** Every panel, those of collapsed rows (which Grafana keeps in the row's `panels`) included. */
  const all = board.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = (p: Panel) => (p.targets ?? []).map((t) => t.expr ?? '');
  const panel = (title: string) => {
    const p = all.find((x) => x.title === title);
    expect(p, title).toBeDefined();
    return p as Panel;
  };
  /** The panels under the row whose title starts with `title`, up to the next row. */
  function rowPanels(title: string): Panel[] {
    const i = board.panels.findIndex((p) => p.type === 'row' && p.title.startsWith(title));
    expect(i, `row ${title}`).toBeGreaterThanOrEqual(0);
    const row = board.panels[i] as Panel;
    if (row.collapsed) return row.panels ?? [];
    const next = board.panels.findIndex((p, j) => j > i && p.type === 'row');
    return board.panels.slice(i + 1, next < 0 ? undefined : next);
  }
  const thresholdsYml = () => parse(read('examples/alerts/thresholds.yml')) as Record<string, number>;

  it('the kkt variable is one register (no multi, no All), the first of the list until one is picked', () => {
    const kkt = board.templating.list.find((v) => v.name === 'kkt') as Record<string, unknown>;
    expect(kkt.multi).toBe(false);
    expect(kkt.includeAll).toBe(false);
    expect(kkt.allValue).toBeUndefined();
    // Grafana selects the first option of a single-value variable whose current value is unset.
    expect(kkt.current ?? {}).toEqual({});
    expect(kkt.sort).toBe(1);
  });

  it('every drill-down panel shows the one register $kkt exactly, and no panel outside the drill-down depends on it', () => {
    const drill = rowPanels('Register drill-down');
    expect(drill.length).toBeGreaterThanOrEqual(10);
    for (const p of drill) {
      expect(exprs(p).length, p.title).toBeGreaterThan(0);
      for (const e of exprs(p)) expect(e, p.title).toMatch(/\{[^}]*\bkkt="\$kkt"[^}]*\}/);
    }
    const outside = all.filter((p) => p.type !== 'row' && !drill.includes(p));
    for (const p of outside) for (const e of exprs(p)) expect(e, p.title).not.toContain('$kkt');
  });

  it('the problem table links each register to its drill-down on this dashboard, with its kkt and source, keeping time range, data source and job', () => {
    const table = panel(PROBLEM_TABLE);
    const links = (table.fieldConfig?.overrides ?? []).filter((o) => o.matcher.id === 'byName' && o.matcher.options === 'kkt')
      .flatMap((o) => o.properties.filter((x) => x.id === 'links').flatMap((x) => x.value as Link[]));
    expect(links).toHaveLength(1);
    const url = (links[0] as Link).url;
    const [path, query = ''] = url.split('?');
    expect(path).toMatch(new RegExp(`^/d/${board.uid}(/[a-z0-9-]+)?$`));
    const params = query.split('&');
    expect(params).toContain('var-kkt=${__data.fields.kkt}');
    expect(params).toContain('var-source=${__data.fields.source}');
    for (const keep of ['${__url_time_range}', '${datasource:queryparam}', '${job:queryparam}']) expect(params).toContain(keep);
    // ${__data.fields.x} finds only the fields the table keeps.
    const organize = table.transformations?.find((x) => x.id === 'organize');
    for (const f of ['kkt', 'source']) expect(organize?.options.excludeByName?.[f], f).toBeFalsy();
    // Every other data link of the dashboard leads to the same drill-down.
    const others = all.flatMap((p) => [...(p.fieldConfig?.defaults?.links ?? []), ...(p.fieldConfig?.overrides ?? []).flatMap((o) => o.properties.filter((x) => x.id === 'links').flatMap((x) => x.value as Link[]))]);
    for (const l of others) {
      expect(l.url).toMatch(new RegExp(`^/d/${board.uid}[/?]`));
      expect(l.url).toMatch(/[?&]var-kkt=\$\{__(data\.fields|field\.labels)\.kkt\}(&|$)/);
      expect(l.url).toMatch(/[?&]var-source=\$\{__(data\.fields|field\.labels)\.source\}(&|$)/);
    }
  });

  it('the time-to-block table lists every register by the time left, soonest first, with the reason in words and its drill-down', () => {
    const table = panel(TIME_TO_BLOCK_TABLE);
    expect(table.type).toBe('table');
    expect(rowPanels('Problems')).toContain(table);
    expect(exprs(table)).toEqual(['sort(kkt:block_timestamp_seconds:earliest{job=~"$job", source=~"$source"} - time())']);
    const organize = table.transformations?.find((x) => x.id === 'organize');
    expect(organize?.options.renameByName?.Value).toBe('time left');
    for (const f of ['kkt', 'source', 'reason']) expect(organize?.options.excludeByName?.[f], f).toBeFalsy();
    expect(table.transformations?.find((x) => x.id === 'sortBy')?.options.sort).toEqual([{ field: 'time left', desc: false }]);
    const override = (field: string, id: string) => table.fieldConfig?.overrides?.find((o) => o.matcher.options === field)?.properties.find((p) => p.id === id)?.value;
    expect(override('time left', 'unit')).toBe('dtdurations');
    expect(override('kkt', 'links')).toHaveLength(1);
    // Every reason the recording rules give has its words.
    const rules = (parse(read('examples/alerts/kkt-alerts.yml')) as { groups: Array<{ rules: Array<{ record?: string; labels?: { reason?: string } }> }> }).groups.flatMap((g) => g.rules);
    const reasons = rules.filter((r) => r.record === 'kkt:block_timestamp_seconds').map((r) => r.labels?.reason as string);
    expect(reasons.length).toBe(5);
    const words = (override('reason', 'mappings') as Array<{ options: Record<string, { text: string }> }>)[0]?.options ?? {};
    expect(Object.keys(words).sort()).toEqual(reasons.sort());
    // Red from where KktBlocksSoon pages (thresholds.yml block_soon_hours).
    const steps = table.fieldConfig?.defaults?.thresholds?.steps ?? [];
    expect(steps[0]).toEqual({ color: 'red', value: null });
    expect(steps[1]?.value).toBe((thresholdsYml().block_soon_hours as number) * 3600);
  });

  it('every recording rule of kkt-alerts.yml is used by a dashboard panel or an alert', () => {
    const rules = (parse(read('examples/alerts/kkt-alerts.yml')) as { groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
    const records = rules.flatMap((r) => (r.record ? [r.record] : []));
    expect(records.length).toBeGreaterThan(0);
    const users = [...all.flatMap(exprs), ...rules.filter((r) => r.alert).map((r) => r.expr)];
    for (const record of records) {
      const name = new RegExp(`(?<![\\w:])${record.replaceAll(':', '\\:')}(?![\\w:])`);
      expect(users.some((e) => name.test(e)), `${record} is used by no panel and no alert`).toBe(true);
    }
  });

  const recordingRules = (parse(read('examples/alerts/kkt-alerts.yml')) as { groups: Array<{ rules: Array<{ record?: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
  const declared = new Set(VENDORS.flatMap((v) => Object.keys(v.metrics)));
  /**
   * A vendor gives `expr` a value when it fills every vendor metric the expression names before its
   * first `unless` (what follows one only removes series), and some rule of each recording rule it reads.
   */
  const fills = (metrics: Record<string, string>, expr: string): boolean => {
    const needed = expr.split(/\bunless\b/)[0] as string;
    return (needed.match(/\bkkt_[a-z_]+/g) ?? []).filter((m) => declared.has(m)).every((m) => m in metrics) &&
      [...new Set(needed.match(/\bkkt:[a-z_:]+/g) ?? [])].every((rec) => recordingRules.some((r) => r.record === rec && fills(metrics, r.expr)));
  };

  it('"Longest open shifts" and the shift problems cover every vendor that reports an open shift, each with its own age rule', () => {
    const withShift = VENDORS.filter((v) => 'kkt_shift_open' in v.metrics).map((v) => v.type);
    expect(withShift.length).toBeGreaterThan(1);
    const filled = (p: Panel) => VENDORS.filter((v) => exprs(p).some((e) => fills(v.metrics, e))).map((v) => v.type);
    expect(filled(panel('Longest open shifts (hours)'))).toEqual(withShift);
    expect(filled(panel('Shift age (hours)'))).toEqual(withShift);
    // One age rule per kind of vendor (with the opening time, with the shift number only, with
    // neither): the one it fills and whose `unless` names none of its metrics.
    const ages = recordingRules.filter((r) => r.record === 'kkt:shift_open_age_seconds');
    const serves = (metrics: Record<string, string>, expr: string) =>
      fills(metrics, expr) && expr.split(/\bunless\b/).slice(1).every((u) => !(u.match(/\bkkt_[a-z_]+/g) ?? []).some((m) => m in metrics));
    for (const v of VENDORS.filter((x) => withShift.includes(x.type))) {
      expect(ages.filter((r) => serves(v.metrics, r.expr)), v.type).toHaveLength(1);
    }
    // And one problem of the table lists each vendor's open shift (a query selects the `opened` it names, or all but the one it excludes).
    const shiftProblems = exprs(panel(PROBLEM_TABLE)).filter((e) => e.includes('kkt:shift_open_age_seconds{'));
    const selects = (e: string, opened: string) => e.includes(`opened="${opened}"`) || (e.includes('opened!="') && !e.includes(`opened!="${opened}"`));
    for (const v of VENDORS.filter((x) => withShift.includes(x.type))) {
      const opened = (ages.find((r) => serves(v.metrics, r.expr)) as { labels?: { opened?: string } }).labels?.opened as string;
      expect(shiftProblems.filter((e) => selects(e, opened)), v.type).toHaveLength(1);
    }
    // The problem table hides the label (its problem says it); the bar gauge names it.
    expect(panel(PROBLEM_TABLE).transformations?.find((x) => x.id === 'organize')?.options.excludeByName?.opened).toBe(true);
    expect(panel('Longest open shifts (hours)').targets?.[0]?.legendFormat).toContain('{{opened}}');
  });

  it('a drill-down panel that some vendors cannot fill says which do, instead of a bare "No data" (from the vendors\' metric tables)', () => {
    const noted: string[] = [];
    for (const p of rowPanels('Register drill-down')) {
      const filled = VENDORS.filter((v) => exprs(p).some((e) => fills(v.metrics, e))).map((v) => v.type);
      expect(filled.length, p.title).toBeGreaterThan(0);
      const noValue = (p.fieldConfig?.defaults as { noValue?: string } | undefined)?.noValue;
      if (filled.length === VENDORS.length) expect(noValue, p.title).toBeUndefined();
      else {
        expect(noValue, p.title).toBe(`Not reported by this register's vendor: only ${filled.join(', ')} registers give it`);
        noted.push(p.title);
      }
    }
    expect(noted).toEqual(expect.arrayContaining(['Paper present', 'FN usage %', 'Shift age (hours)', 'MCU temperature']));
  });

  it('the problem table names an FN flag by its name, not a bit mask, and lists UKM receipts and Kassa24 documents unsent, which have no oldest document\'s age', () => {
    const table = panel(PROBLEM_TABLE);
    const queries = exprs(table);
    expect(queries.filter((e) => e.includes('kkt_fn_warning_flags{'))).toEqual([]);
    expect(queries).toContain('label_replace(kkt_fn_warning_flag{job=~"$job", source=~"$source"} == 1, "problem", "FN flag: $1", "flag", "(.*)")');
    // The flag's column is hidden: the problem says it.
    expect(table.transformations?.find((x) => x.id === 'organize')?.options.excludeByName?.flag).toBe(true);
    const unsent = (kind: string) => queries.filter((e) => e.startsWith('label_replace(kkt_unsent_docs{') && e.includes(`kkt_info{job=~"$job", source=~"$source", ${kind}!=""}`));
    expect(unsent('url'), 'UKM').toHaveLength(1);
    expect(unsent('id_kkm'), 'Kassa24').toHaveLength(1);
    expect(unsent('url')[0]).toContain('"problem", "UKM receipts unsent to the OFD');
    expect(unsent('id_kkm')[0]).toContain('"problem", "Kassa24 documents kept offline');
  });

  it('the problem table is generated from thresholds.yml (run `npm run rules`): a register is listed at its warning alert\'s threshold', () => {
    const t = thresholdsYml();
    expect(renderDashboard(t, text)).toBe(text);
    const queries = exprs(panel(PROBLEM_TABLE));
    const query = (metric: string) => {
      const q = queries.filter((e) => e.includes(metric.includes('{') ? metric : `${metric}{`));
      expect(q, metric).toHaveLength(1);
      return q[0] as string;
    };
    // [metric, its comparison with the threshold, the number the problem's text names]
    const wanted: Array<[string, string, number]> = [
      ['kkt:unsent_oldest_age_seconds', `/ 86400 > ${t.unsent_oldest_warning_days},`, t.unsent_oldest_warning_days as number],
      ['kkt:fn_days_left', `} < ${t.fn_expiry_warning_days},`, t.fn_expiry_warning_days as number],
      ['kkt_fn_usage_percent', `} >= ${t.fn_usage_warning_percent},`, t.fn_usage_warning_percent as number],
      ['kkt:shift_open_age_seconds{job=~"$job", source=~"$source", opened!="last_seen_closed"}', `/ 3600 > ${t.shift_warning_hours},`, t.shift_warning_hours as number],
      ['kkt:shift_open_age_seconds{job=~"$job", source=~"$source", opened="last_seen_closed"}', `/ 3600 > ${t.shift_expired_hours},`, t.shift_expired_hours as number],
      ['kkt:status_age_seconds', `/ 3600 > ${t.stale_warning_hours},`, t.stale_warning_hours as number],
      ['kkt_mcu_temperature_celsius', `} > ${t.mcu_temperature_celsius},`, t.mcu_temperature_celsius as number],
    ];
    for (const [metric, comparison, n] of wanted) {
      const q = query(metric);
      expect(q).toContain(comparison);
      expect(q.match(/"problem", "([^"]*)"/)?.[1], metric).toMatch(new RegExp(`\\b${n}\\b`));
    }
    // No threshold typed in by hand: every number compared with is one of these, or 0, 1 and 3 (flags, phases).
    const allowed = new Set([0, 1, 3, ...wanted.map(([, , n]) => n)]);
    for (const q of queries) for (const m of q.matchAll(/(?:>=|<=|==|!=|>|<)\s*([\d.]+)/g)) expect(allowed, q).toContain(Number(m[1]));
  });
});

describe('shard deployment examples', () => {
  it('the StatefulSet turns pod ordinal 0..replicas-1 into --shard=1/N..N/N, with N = replicas', () => {
    const docs = read('examples/kubernetes/statefulset.yml').split(/^---$/m).map((d) => parse(d) as Record<string, any>);
    const set = docs.find((d) => d.kind === 'StatefulSet') as Record<string, any>;
    const replicas = set.spec.replicas as number;
    const args = (set.spec.template.spec.containers[0].args as string[]).join(' ');
    const shard = /--shard=\$\(\( \$\{POD_NAME##\*-\} \+ 1 \)\)\/(\d+)/.exec(args);
    expect(Number(shard?.[1])).toBe(replicas);
    expect(args).toMatch(/node --expose-gc \/app\/dist\/cli\.js/);
    // The shell arithmetic the pods run, for the ordinals the StatefulSet gives.
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const r = spawnSync('sh', ['-c', `POD_NAME=kkt-exporter-${ordinal}; echo $(( \${POD_NAME##*-} + 1 ))`], { encoding: 'utf8' });
      expect(r.stdout.trim()).toBe(String(ordinal + 1));
    }
  });

  it('the systemd template unit runs instance %i as shard %i/${SHARDS} on its own port', () => {
    const unit = read('examples/systemd/kkt-exporter@.service');
    expect(unit).toMatch(/--shard=%i\/\$\{SHARDS\}/);
    expect(unit).toMatch(/--web\.listen-address=:1005%i/);
    expect(unit).toMatch(/node --expose-gc .*dist\/cli\.js/);
  });
});
