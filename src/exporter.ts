import pLimit from 'p-limit';
import { Registry } from 'prom-client';
import { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { maskedYaml } from './config/mask.js';
import { probeTimeoutSeconds, type Deadline } from './deadline/deadline.js';
import { ScrapeDeadlines } from './deadline/scrape-deadlines.js';
import type { Transport, TransportOptions } from './http/transport.js';
import { errorMessage, formatLogfmt, type Logger } from './log.js';
import { IdleGc } from './idle-gc.js';
import { renderProbeChunks, type Exposition } from './metrics/render.js';
import { SelfMetrics } from './metrics/self.js';
import { SessionRegistry } from './sources/auth.js';
import { KnownRegistersBySource } from './sources/records.js';
import { buildSources, ownerOfSource, VendorStates } from './sources/build.js';
import { Shard } from './shard.js';
import type { ProbeContext, ResolvedTarget, Source } from './sources/source.js';
import { probeResult, type ProbeResult } from './readings/reading.js';
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
  /** Scrapes and probes reading its sources now. */
  scrapes: number;
  /** A reload replaced it: its sources close when its last scrape ends. */
  retired: boolean;
}

/** A text for a person: an error, `debug=true`, `/logs`. */
export interface TextAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** A text, or a scrape's metrics as chunks (see Exposition). */
export type ProbeAnswer = TextAnswer | { status: 200; contentType: typeof CONTENT_TYPE; metrics: Exposition };

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
  /** The scrapes and probes in flight, each by its deadlines: cut when the exporter shuts down. */
  private readonly inFlight = new Set<ScrapeDeadlines>();
  private shuttingDown = false;
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
    return this.gen !== undefined && !this.shuttingDown;
  }

  /** Shutting down: `/-/ready` says not ready while the scrapes in flight finish. */
  get draining(): boolean {
    return this.shuttingDown;
  }

  /** SIGTERM: say not ready from now on; the scrapes in flight go on. */
  drain(): void {
    this.shuttingDown = true;
  }

  /** The drain's time is up: every scrape in flight stops waiting and answers with what it has. */
  cutScrapes(): void {
    for (const scrape of this.inFlight) scrape.cut(SHUT_DOWN);
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
    this.gen = { loaded, sources, scrapes: 0, retired: false };
    this.self.configLoaded(true);
    const names = new Set(sources.keys());
    this.status.retain(names);
    this.knownRegisters.retain(names);
    if (old) retire(old);
  }

  async close(): Promise<void> {
    if (this.gen) await closeAll(this.gen.sources);
  }

  /** Seconds a source may take in this scrape: Prometheus's timeout header, less the offset, capped. */
  private budgetOf(source: Source, timeoutHeader: string | undefined): number {
    const defaultSeconds = (this.gen?.loaded.config.global.scrape_timeout ?? 10_000) / 1000;
    return probeTimeoutSeconds(timeoutHeader, source.timeoutSeconds, this.opts.timeoutOffsetSeconds, defaultSeconds);
  }

  /**
   * Runs `read` with the scrape's deadlines, cut when `abandoned` aborts (the client went away) or
   * the exporter shuts down, and frees their timers when it is over. `gen` stays open until then.
   */
  private async withDeadlines<T>(
    gen: Generation | undefined,
    read: (deadlineOf: (source: Source) => Deadline) => Promise<T>,
    timeoutHeader: string | undefined,
    abandoned: AbortSignal | undefined,
  ): Promise<T> {
    const deadlines = new ScrapeDeadlines();
    const cut = () => deadlines.cut(CLIENT_GONE);
    if (abandoned?.aborted) cut();
    abandoned?.addEventListener('abort', cut);
    this.inFlight.add(deadlines);
    if (gen) gen.scrapes++;
    try {
      return await read((source) => deadlines.after(this.budgetOf(source, timeoutHeader)));
    } finally {
      abandoned?.removeEventListener('abort', cut);
      this.inFlight.delete(deadlines);
      deadlines.dispose();
      if (gen && --gen.scrapes === 0 && gen.retired) retire(gen);
    }
  }

  /** Reads a source (or one register of it), keeping its logs in the history and its readings in the status. */
  private async runProbe(source: Source, deadline: Deadline, via: ProbeRecord['via'], target?: ResolvedTarget): Promise<{ result: ProbeResult; record: ProbeRecord }> {
    const entry = this.history.begin(source.name, via, target?.kkt, target?.adHoc);
    const log = this.log.tee(entry.capture).child({ source: source.name });
    const result = await probeSafely(source, { deadline, log }, target);
    log.debug('probe finished', { success: result.success, duration_seconds: result.durationSeconds.toFixed(3) });
    const record = entry.finish({ success: result.success, durationSeconds: result.durationSeconds, ...(result.error !== undefined ? { error: result.error } : {}) });
    // What a scrape abandoned by its client saw is cut off, and nobody saw it: the landing page keeps the last answer.
    if (deadline.cutFor !== CLIENT_GONE) this.status.record(result, record);
    return { result, record };
  }

  /** A source whose readings could not be written (past V8's longest string, say) is answered as failed. */
  private readonly renderFailed = (source: string, err: unknown): void => {
    this.log.error("cannot write the source's metrics; answering it as failed", { source, err: errorMessage(err) });
  };

  /**
   * `/metrics`: self-metrics plus every register of every source, read now. When `abandoned` aborts
   * (the client went away), the reads stop waiting and nothing is written: nobody would read it.
   */
  collectAll(timeoutHeader: string | undefined, abandoned?: AbortSignal): Promise<Exposition> {
    return this.idleGc.around(async () => {
      const gen = this.gen;
      const scraped = [...(gen?.sources.values() ?? [])].filter((s) => !s.config.probe_only);
      const probes = await this.withDeadlines(gen, (deadlineOf) => Promise.all(scraped.map((s) => this.runProbe(s, deadlineOf(s), 'metrics'))), timeoutHeader, abandoned);
      if (abandoned?.aborted) return [];
      return [await this.self.registry.metrics(), ...renderProbeChunks(probes.map((p) => p.result), this.renderFailed)];
    });
  }

  /** `/probe?source=&target=&debug=`, in blackbox_exporter's manner. */
  async probe(query: { source?: string; target?: string; debug?: boolean }, timeoutHeader: string | undefined, abandoned?: AbortSignal): Promise<ProbeAnswer> {
    const text = (status: number, body: string): ProbeAnswer => ({ status, contentType: 'text/plain; charset=utf-8', body });
    if (!query.source) return text(400, 'source parameter is missing\n');
    const gen = this.gen;
    const source = gen?.sources.get(query.source);
    if (!source) return text(400, `${this.whyNoSource(query.source)}\n`);
    let target: ResolvedTarget | undefined;
    if (query.target !== undefined) {
      const lookup = source.lookup(query.target);
      if (!lookup.ok) return text(lookup.status, `${lookup.message}\n`);
      target = lookup.target;
    }
    const { result, record } = await this.idleGc.around(() => this.withDeadlines(gen, (deadlineOf) => this.runProbe(source, deadlineOf(source), 'probe', target), timeoutHeader, abandoned));
    const metrics = renderProbeChunks([result], this.renderFailed);
    if (!query.debug) return { status: 200, contentType: CONTENT_TYPE, metrics };
    return text(200, [probeLogText(record), '', 'Metrics that would have been returned:', metrics.join(''), 'Source configuration:', maskedYaml(source.config)].join('\n'));
  }

  /** `/logs?id=N`: a recent probe's logs from the history, without asking the vendor again. */
  probeLog(id: number): TextAnswer {
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

/** Why a scrape's deadline came early: what its cut-off reads say. */
const CLIENT_GONE = 'the scrape was abandoned: its client went away';
const SHUT_DOWN = 'the exporter is shutting down';

/**
 * The result of a source's read; a source that throws, despite its promise not to, is down for the
 * error and logs it once, as node_exporter's collectors do: it never fails another source or the scrape.
 */
async function probeSafely(source: Source, ctx: ProbeContext, target: ResolvedTarget | undefined): Promise<ProbeResult> {
  const started = performance.now();
  try {
    return await source.probe(ctx, target);
  } catch (err) {
    ctx.log.error('the source failed', { err: errorMessage(err) });
    return { ...probeResult(source.name, started, false, [], `the source failed: ${errorMessage(err)}`), sourceUp: false };
  }
}

/** A reload replaced `gen`: its sources are closed once the scrapes reading them end (at once if none). */
function retire(gen: Generation): void {
  gen.retired = true;
  if (gen.scrapes === 0) void closeAll(gen.sources);
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
