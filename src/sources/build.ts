import { VendorHttp, type RequestObserver } from '../http/client.js';
import { UndiciTransport, type Transport, type TransportOptions } from '../http/transport.js';
import type { SessionRegistry } from './auth.js';
import type { Source } from './source.js';
import { vendorOf, VENDORS, type Config, type SourceConfig } from './vendors.js';

/** What outlives a config generation: shared by the sources of every reload. */
export interface SourceDeps {
  observer: RequestObserver;
  sessions: SessionRegistry;
  /** Each vendor's process-wide state, by source type (see VendorStates). */
  states: VendorStates;
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
  const http = (connectionsPerOrigin: number) => {
    const opts: TransportOptions = { connectionsPerOrigin, tls: config.tls, proxyUrl: config.proxy_url };
    const transport = deps.transportFactory ? deps.transportFactory(opts) : new UndiciTransport(opts);
    return new VendorHttp(config.name, transport, deps.observer);
  };
  return vendorOf(config.type).build(config, { global, http, sessions: deps.sessions }, deps.states.of(config.type));
}

export function buildSources(config: Config, deps: SourceDeps): Map<string, Source> {
  return new Map(config.sources.map((s) => [s.name, buildSource(s, config.global, deps)]));
}
