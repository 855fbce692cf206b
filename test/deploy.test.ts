import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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

  it('is multi-stage on current LTS Node, runs as non-root, exposes 10054 and checks /-/healthy', () => {
    expect(dockerfile.match(/^FROM node:24-\S+/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 10054$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/-\/healthy/m);
    expect(dockerfile).toMatch(/--config\.file=\/etc\/kkt-exporter\/kkt-exporter\.yml/);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) expect(existsSync(join(ROOT, m[1] as string)), m[1]).toBe(true);
  });
});

describe('examples/docker-compose.yml', () => {
  const compose = parse(read('examples/docker-compose.yml')) as { services: Record<string, { volumes?: string[]; command?: string[]; build?: string }> };

  it('runs the exporter in demo mode with Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'grafana', 'kkt-exporter', 'prometheus']);
    expect(compose.services['kkt-exporter']?.command).toContain('--demo');
    expect(compose.services['kkt-exporter']?.build).toBe('..');
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
