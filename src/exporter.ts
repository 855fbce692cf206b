import pLimit from 'p-limit';
import { Registry } from 'prom-client';
import { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { maskedYaml } from './config/mask.js';
import { Deadline, probeTimeoutSeconds } from './http/deadline.js';
import type { Transport, TransportOptions } from './http/transport.js';
import { errorMessage, formatLogfmt, type Logger } from './log.js';
import { IdleGc } from './idle-gc.js';
import { renderProbeResults } from './metrics/render.js';
import { SelfMetrics } from './metrics/self.js';
import { SessionRegistry } from './sources/auth.js';
import { KnownRegistersBySource } from './sources/records.js';
import { buildSources, ownerOfSource, VendorStates } from './sources/build.js';
import { Shard } from './shard.js';
import type { ResolvedTarget, Source } from './sources/source.js';
import type { ProbeResult } from './readings/reading.js';
import { FleetStatus } from './status/fleet-status.js';
import { ProbeHistory, type ProbeRecord } from './status/history.js';
import { VERSION } from './version.js';

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export interface ExporterOptions {
  configFile: string;
  timeoutOffsetSeconds: number;
  log: Logger;
  /** Which part of the fleet this process serves (`--shard`); default all of it. */
  shard?: Shard;
  transportFactory?: (opts: TransportOptions) => Transport;
}

/** One `http_sd_configs` target group of `GET /sd`. */
export interface SdTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** Where Prometheus reaches this exporter, for the targets of `/sd`. */
export interface ExporterAddress {
  /** `host:port`. */
  host: string;
  scheme: 'http' | 'https';
  /** Any path prefix before `/probe` (a reverse proxy), without the trailing slash. */
  pathPrefix: string;
}

/** A loaded config and the sources built from it; replaced whole on a successful reload. */
interface Generation {
  loaded: LoadedConfig;
  sources: Map<string, Source>;
}

export interface ProbeAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Old sources are closed this long after a reload replaced them, when their scrapes are done. */
const RETIRE_AFTER_MS = 5 * 60_000;

/**
 * The running exporter: config generations, the process-wide register pool and self-metrics.
 * Data flows one way: config -> sources -> readings -> metrics -> response.
 */
export class Exporter {
  readonly self = new SelfMetrics(VERSION);
  /** Each vendor's state that outlives reloads (rate gates, caches of fiscal documents, ...). */
  readonly vendorStates = new VendorStates();
  /** The registers each cloud source last listed: they outlive a reload that keeps the source. */
  private readonly knownRegisters = new KnownRegistersBySource();
  readonly sessions: SessionRegistry;
  /** The last reading of every register and source, for the landing page. */
  readonly status = new FleetStatus();
  /** The last probes and their logs (`/logs`). */
  readonly history = new ProbeHistory();
  readonly startedAt = new Date();
  private gen: Generation | undefined;
  private readonly reloadLock = pLimit(1);
  /** Keeps a large fleet's peak memory down: the one performance device left (docs/benchmark.md). */
  private readonly idleGc = new IdleGc();

  constructor(private readonly opts: ExporterOptions) {
    this.sessions = new SessionRegistry(opts.log);
    this.self.shardInfo(this.shard);
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

  get ready(): boolean {
    return this.gen !== undefined;
  }

  get sources(): Source[] {
    return [...(this.gen?.sources.values() ?? [])];
  }

  get config(): LoadedConfig | undefined {
    return this.gen?.loaded;
  }

  /** Loads the config file; on failure keeps the running generation and reports why. */
  reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    return this.reloadLock(async () => {
      try {
        const loaded = await loadConfig(this.opts.configFile);
        this.install(loaded);
        this.log.info('config loaded', { file: this.opts.configFile, sources: loaded.config.sources.length });
        return { ok: true as const };
      } catch (err) {
        this.self.configLoaded(false);
        const error = err instanceof ConfigError ? err.message : errorMessage(err);
        this.log.error(this.gen ? 'config not loaded; keeping the previous one' : 'config not loaded', { file: this.opts.configFile, err: error });
        return { ok: false as const, error };
      }
    });
  }

  /** Switches to a loaded config: new sources, the same vendor states, known registers and self-metrics. */
  private install(loaded: LoadedConfig): void {
    const sources = buildSources(loaded.config, {
      observer: this.self,
      sessions: this.sessions,
      states: this.vendorStates,
      knownRegisters: this.knownRegisters,
      shard: this.shard,
      transportFactory: this.opts.transportFactory,
    });
    const old = this.gen;
    this.gen = { loaded, sources };
    this.self.configLoaded(true);
    const names = new Set(sources.keys());
    this.status.retain(names);
    this.knownRegisters.retain(names);
    if (old) setTimeout(() => void closeAll(old.sources), RETIRE_AFTER_MS).unref();
  }

  async close(): Promise<void> {
    if (this.gen) await closeAll(this.gen.sources);
  }

  /** Seconds a source may take in this scrape: Prometheus's timeout header, less the offset, capped. */
  private budgetOf(source: Source, timeoutHeader: string | undefined): number {
    const defaultSeconds = (this.gen?.loaded.config.global.scrape_timeout ?? 10_000) / 1000;
    return probeTimeoutSeconds(timeoutHeader, source.timeoutSeconds, this.opts.timeoutOffsetSeconds, defaultSeconds);
  }

  /** Runs `read` with the scrape's deadlines, and frees their timers when it is over. */
  private async withDeadlines<T>(read: (deadlineOf: (source: Source) => Deadline) => Promise<T>, timeoutHeader: string | undefined): Promise<T> {
    const deadlines = new ScrapeDeadlines();
    try {
      return await read((source) => deadlines.after(this.budgetOf(source, timeoutHeader)));
    } finally {
      deadlines.dispose();
    }
  }

  /** Reads a source (or one register of it), keeping its logs in the history and its readings in the status. */
  private async runProbe(source: Source, deadline: Deadline, via: ProbeRecord['via'], target?: ResolvedTarget): Promise<{ result: ProbeResult; record: ProbeRecord }> {
    const entry = this.history.begin(source.name, via, target?.kkt);
    const log = this.log.tee(entry.capture).child({ source: source.name });
    const result = await source.probe({ deadline, log }, target);
    log.debug('probe finished', { success: result.success, duration_seconds: result.durationSeconds.toFixed(3) });
    const record = entry.finish({ success: result.success, durationSeconds: result.durationSeconds, ...(result.error !== undefined ? { error: result.error } : {}) });
    this.status.record(result, record);
    return { result, record };
  }

  /** `/metrics`: self-metrics plus every register of every source, read now. */
  collectAll(timeoutHeader: string | undefined): Promise<string> {
    return this.idleGc.around(async () => {
      const scraped = this.sources.filter((s) => !s.config.probe_only);
      const probes = await this.withDeadlines((deadlineOf) => Promise.all(scraped.map((s) => this.runProbe(s, deadlineOf(s), 'metrics'))), timeoutHeader);
      return (await this.self.registry.metrics()) + renderProbeResults(probes.map((p) => p.result));
    });
  }

  /** `/probe?source=&target=&debug=`, in blackbox_exporter's manner. */
  async probe(query: { source?: string; target?: string; debug?: boolean }, timeoutHeader: string | undefined): Promise<ProbeAnswer> {
    const text = (status: number, body: string): ProbeAnswer => ({ status, contentType: 'text/plain; charset=utf-8', body });
    if (!query.source) return text(400, 'source parameter is missing\n');
    const source = this.gen?.sources.get(query.source);
    if (!source) return text(400, `${this.whyNoSource(query.source)}\n`);
    let target: ResolvedTarget | undefined;
    if (query.target !== undefined) {
      const lookup = source.lookup(query.target);
      if (!lookup.ok) return text(lookup.status, `${lookup.message}\n`);
      target = lookup.target;
    }
    const { result, record } = await this.idleGc.around(() => this.withDeadlines((deadlineOf) => this.runProbe(source, deadlineOf(source), 'probe', target), timeoutHeader));
    const metrics = renderProbeResults([result]);
    if (!query.debug) return { status: 200, contentType: CONTENT_TYPE, body: metrics };
    return text(200, [probeLogText(record), '', 'Metrics that would have been returned:', metrics, 'Source configuration:', maskedYaml(source.config)].join('\n'));
  }

  /** `/logs?id=N`: a recent probe's logs from the history, without asking the vendor again. */
  probeLog(id: number): ProbeAnswer {
    const record = this.history.get(id);
    if (!record) return { status: 404, contentType: 'text/plain; charset=utf-8', body: `probe ${id} is no longer in the history (the last ${this.history.limit} probes and ${this.history.limit} failures are kept)\n` };
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: `${probeHeading(record)}\n\n${probeLogText(record)}\n` };
  }

  /** Why `/probe` cannot read a source here: unknown, or served by another shard. */
  private whyNoSource(name: string): string {
    const config = this.gen?.loaded.config.sources.find((s) => s.name === name);
    const owner = config && ownerOfSource(config, this.shard);
    if (owner !== undefined) return `source "${name}" belongs to shard ${owner}/${this.shard.count}: probe it there`;
    return `unknown source "${name}"`;
  }

  /**
   * `GET /sd`: Prometheus HTTP service discovery for the `/probe` job, from this shard's config: a
   * target group per register read one by one and one per source read as a whole. Only the
   * `probe_only` sources: one that `/metrics` reads would be held twice by a Prometheus that
   * scrapes both.
   */
  serviceDiscovery(address: ExporterAddress): SdTargetGroup[] {
    const where: Record<string, string> = {
      ...(address.scheme === 'https' ? { __scheme__: 'https' } : {}),
      ...(address.pathPrefix ? { __metrics_path__: `${address.pathPrefix}/probe` } : {}),
    };
    const group = (labels: Record<string, string>): SdTargetGroup => ({ targets: [address.host], labels: { ...where, ...labels } });
    return this.sources.filter((source) => source.config.probe_only).flatMap((source) => {
      const targets = source.probeTargets();
      if (!targets) return [group({ __param_source: source.name, source: source.name })];
      return targets.map((t) => group({ ...t.labels, __param_source: source.name, __param_target: t.kkt, source: source.name, kkt: t.kkt }));
    });
  }
}

/** One scrape's deadlines: one object per distinct budget (a source's own `timeout` may cap it). */
class ScrapeDeadlines {
  private readonly start = performance.now();
  private readonly bySeconds = new Map<number, Deadline>();

  after(seconds: number): Deadline {
    let deadline = this.bySeconds.get(seconds);
    if (!deadline) this.bySeconds.set(seconds, (deadline = new Deadline(this.start + seconds * 1000)));
    return deadline;
  }

  dispose(): void {
    for (const d of this.bySeconds.values()) d.dispose();
  }
}

async function closeAll(sources: Map<string, Source>): Promise<void> {
  await Promise.all([...sources.values()].map((s) => s.close().catch(() => {})));
}

/** A probe's logs as blackbox_exporter prints them (`Logs for the probe:` first). */
function probeLogText(r: ProbeRecord): string {
  return ['Logs for the probe:', ...r.logs.map(formatLogfmt), ...(r.logsOmitted > 0 ? [`... and ${r.logsOmitted} more log lines, not kept`] : [])].join('\n');
}

/** What was probed, when, and how it ended: the first line of `/logs?id=`. */
function probeHeading(r: ProbeRecord): string {
  const what = r.target === undefined ? `source ${r.source}` : `register ${r.target} of source ${r.source}`;
  const how = `${r.success ? 'succeeded' : 'failed'} in ${r.durationSeconds.toFixed(3)} s${r.error ? `: ${r.error}` : ''}`;
  return `Probe ${r.id} of ${what} (${r.via === 'metrics' ? 'a /metrics scrape' : '/probe'}) at ${r.at.toISOString()}: ${how}`;
}
