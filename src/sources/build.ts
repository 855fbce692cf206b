import type { LookupFunction } from 'node:net';
import { SourceHttp, type RequestObserver } from '../http/client.js';
import { UndiciTransport, type Transport, type TransportOptions } from '../http/transport.js';
import { OWNS_ALL, Shard, sourceShard } from '../shard.js';
import type { SessionRegistry } from './auth.js';
import { CloudSource } from './cloud-source.js';
import type { KnownRegistersBySource } from './records.js';
import type { Source } from './source.js';
import { vendorOf, VENDORS, type Config, type SourceConfig } from './vendors.js';

/** What outlives a config generation: shared by the sources of every reload. */
export interface SourceDeps {
  observer: RequestObserver;
  sessions: SessionRegistry;
  /** Each vendor's process-wide state, by source type (see VendorStates). */
  states: VendorStates;
  /** The registers each cloud source last listed, by source name: a reload keeps them. */
  knownRegisters: KnownRegistersBySource;
  /** Which part of the fleet this process serves (`--shard`). */
  shard: Shard;
  /** Tests route vendor traffic through msw handlers here; the default is undici. */
  transportFactory?: (opts: TransportOptions) => Transport;
}

/** Each vendor's state that outlives config reloads, made once per process. */
export class VendorStates {
  private readonly states = new Map<string, unknown>(VENDORS.map((v) => [v.type, v.createState()]));

  of(type: string): unknown {
    return this.states.get(type);
  }
}

export function buildSource(config: SourceConfig, global: Config['global'], deps: SourceDeps): Source {
  const http = (connectionsPerOrigin: number, lookup?: LookupFunction) => {
    const opts: TransportOptions = { connectionsPerOrigin, tls: config.tls, proxyUrl: config.proxy_url, ...(lookup ? { lookup } : {}) };
    const transport = deps.transportFactory ? deps.transportFactory(opts) : new UndiciTransport(opts);
    return new SourceHttp(config.name, transport, deps.observer);
  };
  const vendor = vendorOf(config.type);
  const shard = vendor.sharding === 'register' ? sourceShard(deps.shard, config.name) : OWNS_ALL;
  const source = vendor.build(config, { global, http, sessions: deps.sessions, shard }, deps.states.of(config.type));
  // Kept by name only: a source reloaded with another type or account keeps the registers its
  // predecessor knew until its own first complete list replaces them.
  if (source instanceof CloudSource) source.attach({ known: deps.knownRegisters.of(config.name), storesZone: config.timezone ?? global.timezone });
  return source;
}

/**
 * The shard that serves a source: for one read as a whole, the one its name hashes to; for one
 * whose registers are read one by one, every shard (each reads its own registers of it).
 */
export function ownerOfSource(config: SourceConfig, shard: Shard): number | undefined {
  return vendorOf(config.type).sharding === 'source' ? shard.ownerOf(config.name) : undefined;
}

/** The sources this shard serves, built. */
export function buildSources(config: Config, deps: SourceDeps): Map<string, Source> {
  const served = config.sources.filter((s) => (ownerOfSource(s, deps.shard) ?? deps.shard.index) === deps.shard.index);
  return new Map(served.map((s) => [s.name, buildSource(s, config.global, deps)]));
}
