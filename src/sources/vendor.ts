import type { LookupFunction } from 'node:net';
import type { z } from 'zod';
import type { SourceKind } from '../config/load.js';
import type { GlobalConfig } from '../config/schema.js';
import type { SourceHttp } from '../http/client.js';
import type { RegisterMetric } from '../readings/catalog.js';
import type { SourceShard } from '../shard.js';
import type { SessionRegistry } from './auth.js';
import type { Source } from './source.js';

/** What every source is built with, whatever its vendor. */
export interface BuildContext {
  global: GlobalConfig;
  /**
   * The source's own way to the network: its transport, with this many connections per origin,
   * resolving host names through `lookup` when given.
   */
  http(connectionsPerOrigin: number, lookup?: LookupFunction): SourceHttp;
  /** Vendor logins, shared across config generations by credentials. */
  sessions: SessionRegistry;
  /** Which of its registers this process serves (`--shard`), for a vendor whose registers are read one by one. */
  shard: SourceShard;
}

/**
 * The catalog's register metrics a vendor's readings carry, each with the vendor field (or call) it
 * is read from, as the README's metric table shows it. `kkt_info` is told by its info labels.
 */
export type VendorMetrics = { readonly [M in Exclude<RegisterMetric, 'kkt_info'>]?: string };

/**
 * All the exporter knows of one vendor, in the manner of node_exporter's registerCollector: its
 * config schema, the metrics it fills, how to build a source of it, the state that outlives a
 * config reload, and (SourceKind) what config loading checks beyond the schema. The config, the
 * exporter and the command line learn vendors from the list of these only.
 */
export interface Vendor<C extends { type: string; name: string } = { type: string; name: string }, S = unknown> extends SourceKind {
  readonly type: C['type'];
  /** One source of this type in the config file; `type` tells the vendors apart. */
  readonly configSchema: z.ZodType<C>;
  readonly metrics: VendorMetrics;
  /** The labels of its `kkt_info`, each with the vendor field it is read from. */
  readonly infoLabels: Readonly<Record<string, string>>;
  /**
   * How `--shard` splits it: `register`, each register read one by one belongs to a shard of its
   * own; `source`, the fleet is read as one list, so the whole source belongs to one shard.
   */
  readonly sharding: 'register' | 'source';
  /** What lives as long as the process (rate gates, caches), made once and handed to every build. */
  createState(): S;
  build(config: C, ctx: BuildContext, state: S): Source;
}

/** A vendor of the list, its config and state types erased. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyVendor = Vendor<any, any>;

export function defineVendor<C extends { type: string; name: string }, S>(vendor: Vendor<C, S>): Vendor<C, S> {
  return vendor;
}
