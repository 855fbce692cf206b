import type { Config, SourceConfig } from '../config/schema.js';
import { VendorHttp, type RequestObserver } from '../http/client.js';
import { UndiciTransport, type Transport, type TransportOptions } from '../http/transport.js';
import type { SessionRegistry } from './auth.js';
import { AtolClient } from './atol/client.js';
import { AtolSource } from './atol/source.js';
import { BusinessKassaClient } from './businesskassa/client.js';
import { BusinessKassaSource } from './businesskassa/source.js';
import { Kassa24Client } from './kassa24/client.js';
import { Kassa24Source } from './kassa24/source.js';
import type { XReportCache } from './kassa24/xreport-cache.js';
import type { Source } from './source.js';
import type { UkmRegisterPool } from './ukm/reads.js';
import { UkmSource } from './ukm/source.js';

/** What outlives a config generation: shared by the sources of every reload. */
export interface SourceDeps {
  observer: RequestObserver;
  ukmPool: UkmRegisterPool;
  sessions: SessionRegistry;
  xreports: XReportCache;
  /** Tests route vendor traffic through msw handlers here; the default is undici. */
  transportFactory?: (opts: TransportOptions) => Transport;
}

function transportFor(config: SourceConfig, connectionsPerOrigin: number, deps: SourceDeps): Transport {
  const opts: TransportOptions = { connectionsPerOrigin, tls: config.tls, proxyUrl: config.proxy_url };
  return deps.transportFactory ? deps.transportFactory(opts) : new UndiciTransport(opts);
}

export function buildSource(config: SourceConfig, global: Config['global'], deps: SourceDeps): Source {
  switch (config.type) {
    case 'ukm':
      return new UkmSource(config, {
        http: new VendorHttp(config.name, transportFor(config, 1, deps), deps.observer),
        pool: deps.ukmPool,
        timezone: config.timezone ?? global.timezone,
      });
    case 'atol': {
      const http = new VendorHttp(config.name, transportFor(config, config.page_concurrency, deps), deps.observer);
      const session = deps.sessions.get(['atol', config.url, config.login, config.password]);
      // ATOL documents its times as UTC: the global zone is for vendors that say nothing.
      return new AtolSource(config, new AtolClient(config, http, session), config.timezone ?? 'UTC');
    }
    case 'businesskassa': {
      const http = new VendorHttp(config.name, transportFor(config, 2, deps), deps.observer);
      return new BusinessKassaSource(config, new BusinessKassaClient(config, http), config.timezone ?? global.timezone);
    }
    case 'kassa24': {
      const http = new VendorHttp(config.name, transportFor(config, config.concurrency, deps), deps.observer);
      const session = deps.sessions.get(['kassa24', config.url, config.login, config.password]);
      return new Kassa24Source(config, new Kassa24Client(config, http, session), config.timezone ?? global.timezone, deps.xreports);
    }
  }
}

export function buildSources(config: Config, deps: SourceDeps): Map<string, Source> {
  return new Map(config.sources.map((s) => [s.name, buildSource(s, config.global, deps)]));
}
