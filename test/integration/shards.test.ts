import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedAtolFleet } from '../../src/simulator/atol.js';
import { generatedUkmFleet, SimulatedFleet } from '../../src/simulator/fleet.js';
import { generatedK24Fleet } from '../../src/simulator/kassa24.js';
import { get } from '../support/exporter.js';
import { find, parseMetrics, type Series } from '../support/metrics.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const SHARDS = 3;

function startShard(configFile: string, shard: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, `--config.file=${configFile}`, '--web.listen-address=127.0.0.1:0', '--log.format=json', `--shard=${shard}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"([^"]+)"/.exec(output);
      if (m) resolve({ child, url: m[1] as string });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`shard ${shard} exited with ${code}: ${output}`)));
  });
}

describe('three exporter processes, --shard=1/3..3/3, on one config', () => {
  let fleet: SimulatedFleet;
  let shards: Array<{ child: ChildProcess; url: string }>;
  let scrapes: Series[][];
  let atolPagesPerRound: number;
  let configFile: string;
  let config: { sources: Array<Record<string, unknown>> };
  const atolSource = 'atol-cloud';

  beforeAll(async () => {
    fleet = await SimulatedFleet.start({ ukm: generatedUkmFleet(30), atol: { registers: generatedAtolFleet(20) }, kassa24: { registers: generatedK24Fleet(9) } });
    config = parse(fleet.exporterConfig({ ukmEndpoints: ['paper'] })) as { sources: Array<Record<string, unknown>> };
    for (const s of config.sources) if (s.type === 'kassa24') s.xreport = { enabled: false };
    configFile = join(await mkdtemp(join(tmpdir(), 'kkt-shards-')), 'kkt-exporter.yml');
    await writeFile(configFile, stringify(config));
    shards = await Promise.all(Array.from({ length: SHARDS }, (_, i) => startShard(configFile, `${i + 1}/${SHARDS}`)));
    const pagesBefore = fleet.atol?.pageCalls ?? 0;
    scrapes = await Promise.all(shards.map(async (s) => parseMetrics((await get(`${s.url}/metrics`)).text)));
    atolPagesPerRound = (fleet.atol?.pageCalls ?? 0) - pagesBefore;
  }, 30_000);

  afterAll(async () => {
    for (const s of shards ?? []) s.child.kill('SIGTERM');
    await fleet?.stop();
  });

  it('exports every register from exactly one shard', () => {
    const owners = new Map<string, number[]>();
    scrapes.forEach((series, i) => {
      for (const s of find(series, 'kkt_up')) {
        const key = `${s.labels.source}/${s.labels.kkt}`;
        owners.set(key, [...(owners.get(key) ?? []), i + 1]);
      }
    });
    expect(owners.size).toBe(30 + 20 + 9);
    expect([...owners.values()].filter((o) => o.length !== 1)).toEqual([]);
    for (const series of scrapes) expect(find(series, 'kkt_up').every((s) => s.value === 1)).toBe(true);
    // UKM and Kassa24 registers are spread over the shards; the ATOL fleet sits whole on one.
    expect(scrapes.every((series) => find(series, 'kkt_up', { source: 'stores' }).length > 0)).toBe(true);
    expect(scrapes.filter((series) => find(series, 'kkt_up', { source: atolSource }).length > 0)).toHaveLength(1);
  });

  it('reads the ATOL fleet once per scrape round, and asks no register twice within a second', () => {
    expect(atolPagesPerRound).toBe(1);
    expect(fleet.ukm.violations).toEqual([]);
  });

  it('says which shard it is, in its self-metrics', () => {
    scrapes.forEach((series, i) => expect(find(series, 'kkt_exporter_shard_info')[0]?.labels).toEqual({ shard: String(i + 1), shards: String(SHARDS) }));
  });

  it('answers a /probe for a register or a source another shard owns with 400 naming that shard', async () => {
    const owner = (source: string, kkt?: string) => scrapes.findIndex((series) => find(series, 'kkt_up', kkt ? { source, kkt } : { source }).length > 0) + 1;
    const register = find(scrapes.flat(), 'kkt_up', { source: 'stores' })[0]?.labels.kkt as string;
    const foreign = shards.find((_, i) => i + 1 !== owner('stores', register)) as { url: string };
    const res = await get(`${foreign.url}/probe?source=stores&target=${register}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain(`belongs to shard ${owner('stores', register)}/${SHARDS}`);
    const notAtol = shards.find((_, i) => i + 1 !== owner(atolSource)) as { url: string };
    const atolRes = await get(`${notAtol.url}/probe?source=${atolSource}`);
    expect(atolRes.status).toBe(400);
    expect(atolRes.text).toContain(`source "${atolSource}" belongs to shard ${owner(atolSource)}/${SHARDS}`);
    const own = await get(`${shards[owner('stores', register) - 1]?.url}/probe?source=stores&target=${register}`);
    expect(own.status).toBe(200);
  });

  it('lists in /sd exactly the probe_only /probe targets this shard serves, with the labels Prometheus needs', async () => {
    const sd = () => Promise.all(shards.map(async (s) => JSON.parse((await get(`${s.url}/sd`)).text) as Array<{ targets: string[]; labels: Record<string, string> }>));
    // /metrics reads every source of this config, so /probe has nothing to add.
    expect((await sd()).flat()).toEqual([]);
    for (const s of config.sources) s.probe_only = true;
    await writeFile(configFile, stringify(config));
    for (const s of shards) expect((await fetch(`${s.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    const groups = await sd();
    const all = groups.flat();
    const ukmGroups = all.filter((g) => g.labels.source === 'stores');
    expect(ukmGroups).toHaveLength(30);
    expect(new Set(ukmGroups.map((g) => g.labels.__param_target)).size).toBe(30);
    const atol = all.filter((g) => g.labels.source === atolSource);
    expect(atol).toEqual([{ targets: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)], labels: { __param_source: atolSource, source: atolSource } }]);
    groups.forEach((g, i) => {
      for (const group of g) expect(group.targets).toEqual([new URL(shards[i]?.url as string).host]);
    });
    // Kassa24 without `kkms`: its registers are known only from the vendor's list, so each shard is
    // one target for the source, whose probe reads the registers that shard owns.
    expect(groups.map((g) => g.filter((x) => x.labels.source === 'kz').map((x) => x.labels))).toEqual(
      Array.from({ length: SHARDS }, () => [{ __param_source: 'kz', source: 'kz' }]),
    );
    const ukmGroup = ukmGroups[0] as { labels: Record<string, string> };
    expect(ukmGroup.labels).toMatchObject({ __param_source: 'stores', source: 'stores', kkt: ukmGroup.labels.__param_target });
  });
});
