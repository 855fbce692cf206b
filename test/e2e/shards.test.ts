/**
 * End to end for a sharded fleet (issue 17): the simulator, three exporter processes
 * `--shard=1/3..3/3` on one config whose sources are all `probe_only`, and an HA pair of real
 * Prometheus servers (Debian's `prometheus`, installed by scripts/install-test-deps.sh) whose only
 * job is prometheus.yml.example's `kkt-probe-sd`, with its /sd URLs pointed at the three exporters.
 * Both servers must see every register exactly once, and the tills must never be asked twice
 * within a second although both servers probe every one of them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { generatedK24Fleet, Kassa24Simulator } from '../../src/simulator/kassa24.js';
import { eventually, firstLine, freePort, need, Processes, query, ROOT } from './support.js';

const JOB = 'kkt-probe-sd';
const SHARDS = 3;
const UKM = 12;
const ATOL = 6;
const K24 = 6;
const FLEET = UKM + ATOL + K24;
/** One target per till, one for the ATOL source (owned whole), one per shard for Kassa24 without `kkms`. */
const TARGETS = UKM + 1 + SHARDS;
/** Seconds of scraping, at 5 s a scrape, before the final assertions. */
const RUN_SECONDS = 30;

const dir = mkdtempSync(join(tmpdir(), 'kkt-e2e-shards-'));
const processes = new Processes();
let k24: Kassa24Simulator | undefined;
let control = '';
let exporterUrls: string[] = [];
let promUrls: string[] = [];
let promStarted = 0;

const scalar = async (promUrl: string, expr: string): Promise<number | undefined> => {
  const r = await query(promUrl, expr);
  return r.length === 1 ? Number(r[0]?.value[1]) : undefined;
};

beforeAll(async () => {
  need('prometheus');
  const configFile = join(dir, 'kkt.yml');

  const sim = processes.start(process.execPath, ['dist/simulator/cli.js', `--ukm=${UKM}`, `--atol=${ATOL}`, '--endpoints=paper,ofd', `--config-out=${configFile}`]);
  control = (await firstLine(sim, /"control":"([^"]+)"/))[1] as string;
  // The simulator's CLI has no Kassa24 fleet: this one runs in the test's own process.
  k24 = await Kassa24Simulator.start({ registers: generatedK24Fleet(K24) });

  // Every source probe_only: the exporters' /metrics reads nothing, the tills are read only
  // through the /probe targets that the exporters' /sd hand out.
  const config = parse(readFileSync(configFile, 'utf8')) as { sources: Array<Record<string, unknown>> };
  config.sources.push({ name: 'kz', type: 'kassa24', url: k24.url, login: k24.login, password: k24.password, xreport: { enabled: false } });
  for (const s of config.sources) s.probe_only = true;
  writeFileSync(configFile, stringify(config));

  const exporters = Array.from({ length: SHARDS }, (_, i) =>
    processes.start(process.execPath, ['dist/cli.js', `--config.file=${configFile}`, '--web.listen-address=127.0.0.1:0', '--log.format=json', `--shard=${i + 1}/${SHARDS}`]),
  );
  exporterUrls = (await Promise.all(exporters.map((e) => firstLine(e, /"url":"([^"]+)"/)))).map((m) => m[1] as string);

  // The example's job as it is, with only its /sd URLs replaced by the three loopback exporters.
  const example = parse(readFileSync(join(ROOT, 'prometheus.yml.example'), 'utf8')) as { scrape_configs: Array<{ job_name: string; http_sd_configs?: Array<{ url: string }> }> };
  const job = example.scrape_configs.find((j) => j.job_name === JOB);
  if (!job?.http_sd_configs) throw new Error(`prometheus.yml.example has no http_sd_configs job ${JOB}`);
  if (job.http_sd_configs.length !== SHARDS) throw new Error(`${JOB} in prometheus.yml.example should list ${SHARDS} /sd URLs`);
  job.http_sd_configs = exporterUrls.map((url) => ({ url: `${url}/sd` }));

  promUrls = [];
  for (const replica of ['a', 'b']) {
    const port = await freePort();
    // Distinct external labels, as an HA pair has: they also give the two servers different
    // scrape offsets, so the tills see the pair's probes at different moments.
    const prom = { global: { scrape_interval: '5s', scrape_timeout: '4s', evaluation_interval: '5s', external_labels: { replica } }, scrape_configs: [job] };
    writeFileSync(join(dir, `prometheus-${replica}.yml`), stringify(prom));
    processes.start('prometheus', [`--config.file=${join(dir, `prometheus-${replica}.yml`)}`, `--storage.tsdb.path=${join(dir, `prom-${replica}`)}`, `--web.listen-address=127.0.0.1:${port}`]);
    promUrls.push(`http://127.0.0.1:${port}`);
  }
  promStarted = Date.now();
  await eventually('both Prometheus servers ready', async () => ((await Promise.all(promUrls.map(async (u) => (await fetch(`${u}/-/ready`)).ok))).every(Boolean) ? true : undefined), 20_000);
}, 45_000);

afterAll(async () => {
  await processes.stop();
  await k24?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 15_000);

describe('three exporter shards behind /sd, scraped by an HA pair of real Prometheus servers', () => {
  it('both servers probe every target with up == 1, see every register exactly once, and no till is asked twice within a second', async () => {
    const hosts = exporterUrls.map((u) => new URL(u).host);
    const expectedInstances = [
      ...Array.from({ length: UKM }, (_, i) => `stores/pos${String(i).padStart(5, '0')}`),
      ...hosts.map((h) => `kz@${h}`),
    ].sort();

    // Both servers have found all targets through /sd and scraped each one at least once.
    for (const prom of promUrls) {
      await eventually(
        `${prom}: ${TARGETS} targets up and ${FLEET} registers`,
        async () => {
          const up = await query(prom, `up{job="${JOB}"}`);
          const ok = up.length === TARGETS && up.every((s) => s.value[1] === '1') && (await scalar(prom, 'count(kkt_up)')) === FLEET;
          return ok ? true : undefined;
        },
        45_000,
      );
    }

    // Then keep both scraping for RUN_SECONDS more.
    const wait = promStarted + (RUN_SECONDS + 6) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    const instanceSets: string[][] = [];
    for (const prom of promUrls) {
      const up = await query(prom, `up{job="${JOB}"}`);
      expect(up, prom).toHaveLength(TARGETS);
      expect(up.filter((s) => s.value[1] !== '1'), prom).toEqual([]);
      // The example's relabelling: instance is source/kkt for a till, source@exporter for a whole source.
      const instances = up.map((s) => s.metric.instance as string).sort();
      const atol = instances.filter((i) => i.startsWith('atol-cloud@'));
      expect(atol, prom).toHaveLength(1);
      expect(hosts.map((h) => `atol-cloud@${h}`)).toContain(atol[0]);
      expect(instances.filter((i) => !i.startsWith('atol-cloud@')), prom).toEqual(expectedInstances);
      instanceSets.push(instances);

      // Scraped all along: every target up in each scrape of the last RUN_SECONDS (5 s apart).
      const minUp = await query(prom, `min_over_time(up{job="${JOB}"}[${RUN_SECONDS}s])`);
      expect(minUp.filter((s) => s.value[1] !== '1'), prom).toEqual([]);
      const scrapes = await query(prom, `count_over_time(up{job="${JOB}"}[${RUN_SECONDS}s])`);
      expect(scrapes, prom).toHaveLength(TARGETS);
      expect(scrapes.filter((s) => Number(s.value[1]) < RUN_SECONDS / 5 - 1), prom).toEqual([]);

      // Every register once, from one shard, and up.
      expect(await scalar(prom, 'count(kkt_up)'), prom).toBe(FLEET);
      expect(await scalar(prom, 'sum(kkt_up)'), prom).toBe(FLEET);
      const perRegister = await query(prom, 'count by (source, kkt) (kkt_up)');
      expect(perRegister, prom).toHaveLength(FLEET);
      expect(perRegister.filter((s) => s.value[1] !== '1'), prom).toEqual([]);
      const bySource = Object.fromEntries((await query(prom, 'count by (source) (kkt_up)')).map((s) => [s.metric.source, Number(s.value[1])]));
      expect(bySource, prom).toEqual({ stores: UKM, 'atol-cloud': ATOL, kz: K24 });
      // honor_labels: the exporter's source and kkt, not doubled as exported_source, exported_kkt.
      const kktUp = await query(prom, 'kkt_up');
      expect(kktUp.flatMap((s) => Object.keys(s.metric).filter((l) => l.startsWith('exported_'))), prom).toEqual([]);
    }
    // The pair scrapes the same targets.
    expect(instanceSets[1]).toEqual(instanceSets[0]);

    // Both servers probed every till, and the owning exporter's rate gate held for the pair.
    const stats = (await (await fetch(`${control}/stats`)).json()) as { ukm: { registers: number; requests: number; violations: number; violation_samples: unknown[] } };
    expect(stats.ukm.registers).toBe(UKM);
    expect(stats.ukm.requests).toBeGreaterThanOrEqual(UKM * 2 * (RUN_SECONDS / 5 - 1));
    expect(stats.ukm.violation_samples).toEqual([]);
    expect(stats.ukm.violations).toBe(0);
  }, 90_000);
});
