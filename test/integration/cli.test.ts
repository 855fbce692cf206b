import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import { get } from '../support/exporter.js';
import { find, parseMetrics, valueOf } from '../support/metrics.js';

/** The built command, as users run it (`npm run build` comes first in the test command). */
const CLI = join(import.meta.dirname, '../../dist/cli.js');
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-cli-test-'));
});

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function run(args: string[], opts: { cwd?: string } = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, ...opts });
}

/** Starts the exporter and resolves with the first stdout/stderr text matching `ready`. */
function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; output: () => string; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, output: () => output, match });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

describe('kkt-exporter command', () => {
  it('--config.check prints file:line:col problems and exits 1', async () => {
    const file = join(dir, 'bad.yml');
    await writeFile(file, 'global:\n  timezone: Europe/Moscow\nsources:\n  - name: stores\n    type: ukm\n    min_interval: 200ms\n    colour: red\n');
    const r = run([`--config.file=${file}`, '--config.check']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:6:19: sources.0.min_interval: must be at least 1s`);
    expect(r.stderr).toContain(`${file}:7:5: unknown key "colour"`);
  });

  it('--config.check exits 0 on a good file', async () => {
    const file = join(dir, 'good.yml');
    await writeFile(file, 'sources:\n  - name: stores\n    type: ukm\n    registers: [{name: r1, url: "http://10.0.0.1:8080"}]\n');
    const r = run([`--config.file=${file}`, '--config.check']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('OK (1 sources, 1 configured registers)');
  });

  it('exits 1 with a clear error on a missing config or a bad flag', () => {
    const missing = run([`--config.file=${join(dir, 'nope.yml')}`, '--web.listen-address=127.0.0.1:0']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.yml:1:1: config file not found \(ENOENT\)/);
    const badFlag = run(['--no-such-flag']);
    expect(badFlag.status).toBe(1);
    expect(badFlag.stderr).toMatch(/Unknown option '--no-such-flag'/);
  });

  it('refuses to start with an --alerts.thresholds-file it cannot use, naming the file and the key', async () => {
    const good = join(dir, 'good-for-thresholds.yml');
    await writeFile(good, 'sources:\n  - name: stores\n    type: ukm\n    registers: [{name: r1, url: "http://10.0.0.1:8080"}]\n');
    const thresholds = join(dir, 'thresholds.yml');
    await writeFile(thresholds, 'runbook_base_url: https://example.com/alerts.md\nfn_usage_warning_percent: lots\n');
    const r = run([`--config.file=${good}`, `--alerts.thresholds-file=${thresholds}`, '--web.listen-address=127.0.0.1:0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/err=".*thresholds\.yml: unsent_oldest_warning_days: .*" msg="cannot read the alert thresholds"/);
  });

  it('started with no config file, says the file is missing and how to give one, not that it keeps a previous one', () => {
    const r = run(['--web.listen-address=127.0.0.1:0'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/kkt-exporter\.yml:1:1: config file not found \(ENOENT\).*--config\.file=PATH.*--demo/);
    expect(r.stderr).toContain('msg="config not loaded"');
    expect(r.stderr).not.toContain('keeping the previous one');
    const check = run(['--config.check'], { cwd: dir });
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/^kkt-exporter\.yml:1:1: config file not found \(ENOENT\).*--config\.file=PATH.*--demo/);
  });

  it('--config.check refuses a FIFO as the config file instead of hanging', () => {
    const fifo = join(dir, 'pipe.yml');
    execFileSync('mkfifo', [fifo]);
    const r = run([`--config.file=${fifo}`, '--config.check']);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${fifo}:1:1: cannot read file: not a regular file (a named pipe)`);
  });

  it('reloads on SIGHUP and keeps the old config when the new one is bad', async () => {
    const fleet = await SimulatedFleet.start({ ukm: [{ name: 'r1' }, { name: 'r2' }] });
    try {
      const file = join(dir, 'hup.yml');
      const cfg = (names: string[]) =>
        `sources:\n  - name: stores\n    type: ukm\n    endpoints: [paper]\n    registers:\n${names.map((n) => `      - {name: ${n}, url: "${fleet.ukm.get(n)?.url}"}\n`).join('')}`;
      await writeFile(file, cfg(['r1']));
      const { child, output, match } = await start([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0', '--log.format=json'], /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
      const base = match[1] as string;
      await writeFile(file, cfg(['r1', 'r2']));
      child.kill('SIGHUP');
      await waitFor(() => output().split('"config loaded"').length > 2);
      expect((await get(`${base}/probe?source=stores&target=r2`)).status).toBe(200);
      await writeFile(file, 'sources: [{name: x, type: nope}]\n');
      child.kill('SIGHUP');
      await waitFor(() => output().includes('keeping the previous one'));
      expect((await get(`${base}/probe?source=stores&target=r2`)).status).toBe(200);
      const self = parseMetrics((await get(`${base}/metrics`)).text);
      expect(valueOf(self, 'kkt_exporter_config_last_reload_successful')).toBe(0);
    } finally {
      await fleet.stop();
    }
  });

  it('--demo serves the simulated chain with the paper-out register at kkt_paper_present 0', async () => {
    const { match } = await start(['--demo', '--web.listen-address=127.0.0.1:0'], /All registers, read now: +(http:\/\/localhost:\d+)\/metrics/);
    const url = (match[1] as string).replace('localhost', '127.0.0.1');
    const res = await get(`${url}/metrics`);
    expect(res.status).toBe(200);
    const s = parseMetrics(res.text);
    expect(valueOf(s, 'kkt_paper_present', { kkt: 'msk-012-pos02' })).toBe(0);
    expect(valueOf(s, 'kkt_unsent_docs', { kkt: 'msk-047-pos01' })).toBe(17);
    expect(valueOf(s, 'kkt_receipt_open', { kkt: 'spb-101-pos03' })).toBe(1);
    expect(valueOf(s, 'kkt_up', { kkt: 'spb-101-pos04' })).toBe(0);
    expect(valueOf(s, 'kkt_vision_connected', { kkt: 'msk-047-pos03' })).toBe(0);
    expect(valueOf(s, 'kkt_up', { store: '012', city: 'msk', kkt: 'msk-012-pos01' })).toBe(1);
    const atol = (metric: string) => find(s, metric, { source: 'atol-cloud' }).map((x) => x.value);
    expect(atol('kkt_up')).toEqual([1, 1, 1, 1, 1, 1]);
    expect(atol('kkt_fn_usage_percent')).toEqual(expect.arrayContaining([85.34, 95.1]));
    expect(atol('kkt_ofd_network_error_code')).toContain(2);
    const now = Date.now() / 1000;
    expect(atol('kkt_fn_expiry_timestamp_seconds').some((t) => t > now + 9 * 86400 && t < now + 11 * 86400)).toBe(true);
    expect(atol('kkt_unsent_oldest_timestamp_seconds').some((t) => t < now - 4.9 * 86400 && t > now - 5.1 * 86400)).toBe(true);
    const bk = (metric: string) => find(s, metric, { source: 'bk' }).map((x) => x.value);
    expect(bk('kkt_up')).toEqual([1, 1, 1, 1, 1]);
    expect(bk('kkt_fn_phase')).toContain(7);
    expect(bk('kkt_mcu_temperature_celsius')).toContain(78);
    expect(bk('kkt_fn_warning_flags')).toContain(3);
    expect(find(s, 'kkt_fn_warning_flag', { source: 'bk', flag: 'urgent_replacement' }).map((x) => x.value)).toContain(1);
    const kz = (metric: string) => find(s, metric, { source: 'kz' }).map((x) => x.value);
    expect(kz('kkt_shift_open')).toEqual([1, 1, 0, 1]);
    expect(kz('kkt_shift_opened_timestamp_seconds').some((t) => Math.abs(now - t - 23.5 * 3600) < 60)).toBe(true);
    // Three shifts are open; 70001 keeps 4 documents offline, so no X-report is taken there (it would
    // be one more document in its queue for the OFD).
    expect(find(s, 'kkt_xreport_amount', { source: 'kz', operation: 'sales' }).map((x) => x.labels.kkt).sort()).toEqual(['70000', '70003']);
  }, 30_000);
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
