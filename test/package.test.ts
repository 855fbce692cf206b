// The npm tarball, as `npm pack` makes it: it holds what the README names and what an installed user
// needs (the rule generator among them), and nothing of the source tree's development side.
// Uses the built dist/ (scripts/test.sh builds before the tests): `npm pack --ignore-scripts`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** What `npm pack --json` says of the tarball. */
interface Packed {
  filename: string;
  version: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string }>;
}

/** What an installed user needs beyond the README's links. */
const REQUIRED = [
  'package.json', 'README.md', 'CHANGELOG.md', 'LICENSE',
  'dist/cli.js', 'dist/healthcheck.js', 'dist/simulator/cli.js',
  'prometheus.yml.example', 'docs/alerts.md',
  'scripts/gen-alerts.mjs', 'scripts/gen-dashboard.mjs',
  'examples/alerts/kkt-alerts.yml', 'examples/alerts/thresholds.yml', 'examples/grafana/kkt-overview.json',
  'examples/docker-compose.yml', 'examples/kkt-exporter.yml', 'examples/systemd/kkt-exporter@.service',
];

/** README links to the source tree's development side, which an installed copy does without. */
const SOURCE_TREE_ONLY = new Map([
  ['Dockerfile', 'builds the image from src/'],
  ['docs/img/landing.png', 'a screenshot of the landing page (273 KB)'],
]);

const DEVELOPMENT = /^(src|test|bench|bench-results|node_modules|dist-check|\.tmp|\.ci|\.git)\/|\.ts$|\.map$|\.test\.js$|^package-lock\.json$/;

/** Every relative link target of the README, without its anchor. */
function readmeLinks(): string[] {
  const targets = [...read('README.md').matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)].map((m) => m[1] as string);
  return [...new Set(targets.filter((t) => !/^[a-z]+:/.test(t)))].sort();
}

let work: string;
let packed: Packed;
let pkg: string;
let paths: Set<string>;
const has = (path: string) => paths.has(path) || (path.endsWith('/') && [...paths].some((p) => p.startsWith(path)));

/** `kkt-exporter ARGS` of the unpacked package, run outside the source tree. */
function installedCli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(pkg, 'dist/cli.js'), ...args], { cwd: work, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  work = mkdtempSync(join(tmpdir(), 'kkt-package-'));
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  packed = (JSON.parse(r.stdout) as Packed[])[0] as Packed;
  paths = new Set(packed.files.map((f) => f.path));
  const untar = spawnSync('tar', ['xzf', join(work, packed.filename), '-C', work], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  pkg = join(work, 'package');
  // The production dependencies, as an install would put them beside the package.
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds what the README names and an installed user needs', () => {
    const missing = [...REQUIRED, ...readmeLinks().filter((l) => !SOURCE_TREE_ONLY.has(l))].filter((p) => !has(p));
    expect(missing).toEqual([]);
    for (const bin of Object.values(JSON.parse(read('package.json')).bin as Record<string, string>)) expect(paths, bin).toContain(bin);
  });

  it('holds no tests, benchmarks, TypeScript sources, source maps or dependencies', () => {
    expect([...paths].filter((p) => DEVELOPMENT.test(p))).toEqual([]);
    for (const path of SOURCE_TREE_ONLY.keys()) expect(paths).not.toContain(path);
  });

  it('is the version CHANGELOG releases, and the README installs that tarball', () => {
    const changelog = read('CHANGELOG.md');
    const headings = [...changelog.matchAll(/^## (.+)$/gm)].map((m) => m[1] as string);
    expect(headings[0]).toMatch(/^Unreleased/);
    expect(headings[1]).toMatch(new RegExp(`^${packed.version.replace(/\./g, '\\.')} \\(\\d{4}-\\d{2}-\\d{2}\\)$`));
    const tarballs = new Set([...read('README.md').matchAll(/kkt-exporter-\d+\.\d+\.\d+\.tgz/g)].map((m) => m[0]));
    expect([...tarballs]).toEqual([packed.filename]);
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
  });

  it('`kkt-exporter rules` of the installed copy regenerates the shipped rules and dashboard from thresholds.yml', () => {
    const thresholds = join(pkg, 'examples/alerts/thresholds.yml');
    const shipped = readFileSync(join(pkg, 'examples/alerts/kkt-alerts.yml'), 'utf8');
    const toStdout = installedCli('rules', `--alerts.thresholds-file=${thresholds}`);
    expect(toStdout.stderr).toBe('');
    expect(toStdout.status).toBe(0);
    expect(toStdout.stdout).toBe(shipped);

    const dashboard = join(work, 'kkt-overview.json');
    copyFileSync(join(pkg, 'examples/grafana/kkt-overview.json'), dashboard);
    const mine = join(work, 'thresholds.yml');
    writeFileSync(mine, readFileSync(thresholds, 'utf8').replace(/^mcu_temperature_celsius: \d+/m, 'mcu_temperature_celsius: 71'));
    const toFiles = installedCli('rules', `--alerts.thresholds-file=${mine}`, '--output=kkt-alerts.yml', `--dashboard.file=${dashboard}`);
    expect(toFiles).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(work, 'kkt-alerts.yml'), 'utf8')).toMatch(/kkt_mcu_temperature_celsius > 71\b/);
    expect(readFileSync(dashboard, 'utf8')).toContain('MCU above 71 °C');
    // The installed package's own files are left alone.
    expect(readFileSync(join(pkg, 'examples/alerts/kkt-alerts.yml'), 'utf8')).toBe(shipped);
  });

  it('`kkt-exporter rules` refuses a thresholds file with a key missing or not YAML, in one line naming the file, and writes nothing', () => {
    const broken = join(work, 'broken.yml');
    writeFileSync(broken, read('examples/alerts/thresholds.yml').replace(/^held_lookback:.*$/m, ''));
    const r = installedCli('rules', `--alerts.thresholds-file=${broken}`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kkt-exporter rules: ${broken}: held_lookback is missing\n`);

    writeFileSync(broken, 'held_lookback: [\n');
    const notYaml = installedCli('rules', `--alerts.thresholds-file=${broken}`, '--output=never.yml');
    expect(notYaml.status).toBe(1);
    expect(notYaml.stderr).toMatch(new RegExp(`^kkt-exporter rules: ${broken}:2:1: not YAML: [^\n]+\n$`));
    expect(existsSync(join(work, 'never.yml'))).toBe(false);
  });

  it("examples/docker-compose.yml builds the exporter's image from the installed package", () => {
    const examples = join(pkg, 'examples');
    const compose = parse(readFileSync(join(examples, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: { context: string; dockerfile: string }; volumes?: string[] }>;
    };
    const build = compose.services['kkt-exporter']?.build;
    expect(build).toBeDefined();
    const context = posix.normalize(posix.join('examples', build?.context ?? ''));
    expect(context).toBe('.');
    const dockerfile = readFileSync(join(pkg, build?.dockerfile ?? ''), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(' '));
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) expect(existsSync(join(pkg, source)), source).toBe(true);
    for (const svc of Object.values(compose.services)) {
      for (const v of svc.volumes ?? []) expect(existsSync(join(examples, v.split(':')[0] as string)), v).toBe(true);
    }
    // In a clone the context's .dockerignore leaves dist/ out: the Dockerfile's own ignore file lets it in.
    expect(existsSync(join(dirname(join(pkg, build?.dockerfile ?? '')), `${posix.basename(build?.dockerfile ?? '')}.dockerignore`))).toBe(true);
    const node = read('.node-version').trim();
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([`node:${node}-bookworm-slim`]);
    const lint = spawnSync(process.execPath, [join(ROOT, 'node_modules/dockerfile-utils/bin/dockerfile-utils'), 'lint', join(pkg, build?.dockerfile ?? '')], { encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');
    expect(lint.status).toBe(0);
  });
});
