import type { Transport, TransportOptions } from '../http/transport.js';
import type { Logger } from '../log.js';
import { SelfMetrics } from '../metrics/self.js';
import { Shard } from '../shard.js';
import { SessionRegistry } from '../sources/auth.js';
import { buildSources, VendorStates } from '../sources/build.js';
import { KnownRegistersBySource } from '../sources/records.js';
import type { Source } from '../sources/source.js';
import { CONFIG_RULES } from '../sources/vendors.js';
import { FleetStatus } from '../status/fleet-status.js';
import { ReadHistory } from '../status/history.js';
import { VERSION } from '../version.js';
import { Generations } from './generations.js';
import { Scrapes } from './scrape.js';

export interface ExporterOptions {
  configFile: string;
  timeoutOffsetSeconds: number;
  log: Logger;
  /** Which part of the fleet this process serves (`--shard`); default all of it. */
  shard?: Shard;
  transportFactory?: (opts: TransportOptions) => Transport;
}

/**
 * The running exporter: its config generations, its scrapes, and what outlives a reload (the
 * vendors' state, logins, the registers cloud sources listed, self-metrics, status and history).
 * Data flows one way: config -> sources -> readings -> metrics -> response.
 */
export class Exporter {
  /** Each vendor's state that outlives reloads (rate gates, caches of fiscal documents, ...). */
  readonly vendorStates = new VendorStates();
  /** The last reading of every register and source, for the landing page. */
  readonly status = new FleetStatus();
  /** The last probes and their logs (`/logs`). */
  readonly history = new ReadHistory();
  readonly startedAt = new Date();
  readonly generations: Generations;
  readonly scrapes: Scrapes;
  private readonly self = new SelfMetrics(VERSION);
  /** The registers each cloud source last listed: they outlive a reload that keeps the source. */
  private readonly knownRegisters = new KnownRegistersBySource();
  private readonly sessions: SessionRegistry;

  constructor(private readonly opts: ExporterOptions) {
    const { log, configFile, timeoutOffsetSeconds } = opts;
    this.sessions = new SessionRegistry(log);
    this.self.shardInfo(this.shard);
    this.generations = new Generations({
      configFile,
      rules: CONFIG_RULES,
      log,
      build: (config) =>
        buildSources(config, {
          observer: this.self,
          sessions: this.sessions,
          states: this.vendorStates,
          knownRegisters: this.knownRegisters,
          shard: this.shard,
          transportFactory: opts.transportFactory,
        }),
      installed: (names) => {
        this.self.configLoaded(true);
        this.status.retain(names);
        this.knownRegisters.retain(names);
      },
      failed: () => this.self.configLoaded(false),
    });
    const { generations, self, status, history, shard } = this;
    this.scrapes = new Scrapes({ generations, self, status, history, log, shard, timeoutOffsetSeconds });
  }

  get shard(): Shard {
    return this.opts.shard ?? Shard.ALL;
  }

  get log(): Logger {
    return this.opts.log;
  }

  get configFile(): string {
    return this.opts.configFile;
  }

  /** The sources of the config in force. */
  get sources(): Source[] {
    return [...(this.generations.current?.sources.values() ?? [])];
  }

  get ready(): boolean {
    return this.generations.ready;
  }

  get draining(): boolean {
    return this.generations.draining;
  }

  drain(): void {
    this.generations.drain();
  }

  cutScrapes(): void {
    this.generations.cutScrapes();
  }

  reload(): ReturnType<Generations['reload']> {
    return this.generations.reload();
  }

  close(): Promise<void> {
    return this.generations.close();
  }
}
