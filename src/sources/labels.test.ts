import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exporterLabels } from '../config/schema.js';
import { Deadline } from '../deadline/deadline.js';
import { Logger } from '../log.js';
import { CATALOG_LABELS, PROBE_METRICS, REGISTER_METRICS, type ScrapeMetricDef } from '../readings/catalog.js';
import type { SourceReading } from '../readings/reading.js';
import { renderSourceReadings } from '../metrics/render.js';
import { Shard } from '../shard.js';
import { demoFleet, SimulatedFleet } from '../simulator/fleet.js';
import { SessionRegistry } from './auth.js';
import { buildSources, VendorStates } from './build.js';
import { KnownRegistersBySource } from './records.js';
import type { AnyVendor } from './vendor.js';
import { configSchema, vendorOf, VENDORS, type Config } from './vendors.js';

/*
 * Every label a series carries is declared: the catalog's for its family, the vendor's for
 * kkt_info. A label a series carries twice makes Prometheus drop the whole scrape, and one nobody
 * declared is one a static label (or another vendor's) may collide with unchecked. Checked on the
 * simulated chain, every vendor's part of it read through its real source and rendered.
 */

const FAMILIES: Record<string, ScrapeMetricDef> = { ...REGISTER_METRICS, ...PROBE_METRICS };
/** Families every register reading gets from the renderer, whatever its vendor fills. */
const RENDERED_FOR_EVERY_REGISTER = ['kkt_info', 'kkt_probe_endpoint_success'];

interface ReadSource {
  vendor: AnyVendor;
  config: Config['sources'][number];
  result: SourceReading;
}

let fleet: SimulatedFleet;
let read: ReadSource[];

beforeAll(async () => {
  fleet = await SimulatedFleet.start(demoFleet());
  const config = configSchema.parse(parse(fleet.exporterConfig()));
  const observer = { request() {}, rateLimitWait() {}, auth() {} };
  const deps = { observer, sessions: new SessionRegistry(), states: new VendorStates(), knownRegisters: new KnownRegistersBySource(), shard: Shard.ALL };
  const sources = buildSources(config, deps);
  const log = new Logger(() => {}, 'error');
  read = await Promise.all(
    config.sources.map(async (c) => {
      const source = sources.get(c.name)!;
      const result = await source.read({ deadline: Deadline.in(20_000), log });
      await source.close();
      return { vendor: vendorOf(c.type), config: c, result };
    }),
  );
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
});

/** A series line's name and its label names in order, repeats kept (a parsed object would hide them). */
function seriesOf(text: string): Array<{ name: string; labels: string[] }> {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name = '', body = ''] = /^([a-z_]+)(?:\{(.*)\})? /.exec(line) ?? [];
      return { name, labels: [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)].map((m) => m[1] as string) };
    });
}

/** The static label names a source's config gives its registers. */
function staticLabelNames(config: ReadSource['config']): string[] {
  const registers = (config as { registers?: Array<{ labels?: Record<string, string> }> }).registers ?? [];
  return [...new Set(registers.flatMap((r) => Object.keys(r.labels ?? {})))];
}

/** The labels a series of `family` may carry in a source of `vendor` with these static labels. */
function declaredLabels(family: string, vendor: AnyVendor, staticLabels: readonly string[]): Set<string> {
  const def = FAMILIES[family];
  if (!def) return new Set();
  const base = def.scope === 'register' ? ['source', 'kkt', ...staticLabels] : [];
  const info = family === 'kkt_info' ? Object.keys(vendor.infoLabels) : [];
  return new Set([...base, ...def.labels, ...info]);
}

describe('the labels every vendor emits', () => {
  it('reads a source of every vendor from the simulated chain', () => {
    expect(VENDORS.map((v) => v.type).filter((type) => !read.some((s) => s.vendor.type === type))).toEqual([]);
    for (const { config, result } of read) expect(result.registers.filter((r) => r.up).length, config.name).toBeGreaterThan(0);
  });

  it('gives every series only labels its family (and, for kkt_info, its vendor) declares, each once', () => {
    const problems: string[] = [];
    for (const { vendor, config, result } of read) {
      const statics = staticLabelNames(config);
      for (const { name, labels } of seriesOf(renderSourceReadings([result]))) {
        const declared = declaredLabels(name, vendor, statics);
        const undeclared = labels.filter((l) => !declared.has(l));
        const repeated = labels.filter((l, i) => labels.indexOf(l) !== i);
        if (!FAMILIES[name]) problems.push(`${config.name}: ${name} is not in the catalog`);
        if (undeclared.length) problems.push(`${config.name}: ${name} carries undeclared ${undeclared.join(', ')}`);
        if (repeated.length) problems.push(`${config.name}: ${name} carries ${repeated.join(', ')} twice`);
      }
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it("emits, for each vendor, exactly the register metrics it declares it fills", () => {
    for (const vendor of VENDORS) {
      const texts = read.filter((s) => s.vendor === vendor).map((s) => renderSourceReadings([s.result]));
      const emitted = new Set(texts.flatMap(seriesOf).map((s) => s.name).filter((name) => FAMILIES[name]?.scope === 'register'));
      const declared = new Set([...Object.keys(vendor.metrics), ...RENDERED_FOR_EVERY_REGISTER]);
      expect([...emitted].filter((name) => !declared.has(name)), `${vendor.type} emits undeclared`).toEqual([]);
      expect([...declared].filter((name) => !emitted.has(name)), `${vendor.type} declares but never emits`).toEqual([]);
    }
  });

  it("names no vendor's kkt_info label like a catalog label or a reserved one", () => {
    const reserved = exporterLabels([]);
    for (const vendor of VENDORS) {
      const clashes = Object.keys(vendor.infoLabels).filter((l) => reserved.has(l) || CATALOG_LABELS.has(l) || l.startsWith('__'));
      expect(clashes, vendor.type).toEqual([]);
    }
  });
});
