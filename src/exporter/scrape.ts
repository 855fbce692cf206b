import { probeTimeoutSeconds, type Deadline } from '../deadline/deadline.js';
import { ScrapeDeadlines } from '../deadline/scrape-deadlines.js';
import { IdleGc } from '../idle-gc.js';
import { errorMessage, type Logger } from '../log.js';
import { renderSourceChunks, type Exposition } from '../metrics/render.js';
import type { SelfMetrics } from '../metrics/self.js';
import { sourceReading, type SourceReading } from '../readings/reading.js';
import type { Shard } from '../shard.js';
import { ownerOfSource } from '../sources/build.js';
import type { ReadContext, ResolvedTarget, Source } from '../sources/source.js';
import type { FleetStatus } from '../status/fleet-status.js';
import type { ReadHistory, ReadRecord } from '../status/history.js';
import { logReadChanges } from '../status/read-changes.js';
import type { Generation, Generations } from './generations.js';

export interface ScrapesOptions {
  generations: Generations;
  self: SelfMetrics;
  /** Every read's last reading, for the landing page. */
  status: FleetStatus;
  /** Every read's logs, for `/logs` and `/probe?debug=true`. */
  history: ReadHistory;
  log: Logger;
  shard: Shard;
  /** `--timeout-offset`: subtracted from Prometheus's scrape timeout. */
  timeoutOffsetSeconds: number;
}

/** A `/probe`: the source read and what it answered, or why it was not read. */
export type ProbeOutcome =
  | { read: true; source: Source; record: ReadRecord; metrics: Exposition }
  | { read: false; status: number; why: string };

/**
 * The scrapes: `/metrics` reads every source, `/probe` one source or one register of it, each
 * under deadlines from Prometheus's timeout, logged in the history and recorded in the status.
 */
export class Scrapes {
  /** Keeps a large fleet's peak memory down (figures in docs/benchmark.md). */
  private readonly idleGc = new IdleGc();

  constructor(private readonly opts: ScrapesOptions) {}

  /**
   * `/metrics`: self-metrics plus every register of every source, read now. When `abandoned` aborts
   * (the client went away), the reads stop waiting and nothing is written: nobody would read it.
   */
  metrics(timeoutHeader: string | undefined, abandoned?: AbortSignal): Promise<Exposition> {
    return this.idleGc.around(async () => {
      const gen = this.opts.generations.current;
      const reads = gen ? await this.readScraped(gen, timeoutHeader, abandoned) : [];
      if (abandoned?.aborted) return [];
      return [await this.opts.self.registry.metrics(), ...renderSourceChunks(reads.map((r) => r.result), this.renderFailed)];
    });
  }

  /** Reads every source of `gen` that `/metrics` reads: all but the `probe_only` ones. */
  private readScraped(gen: Generation, timeoutHeader: string | undefined, abandoned: AbortSignal | undefined) {
    const scraped = [...gen.sources.values()].filter((s) => !s.config.probe_only);
    return this.withDeadlines(gen, (deadlineOf) => Promise.all(scraped.map((s) => this.readSource(s, deadlineOf(s), 'metrics'))), timeoutHeader, abandoned);
  }

  /** `/probe?source=&target=`: reads the source, or the one register `targetName` names. */
  async probe(sourceName: string, targetName: string | undefined, timeoutHeader: string | undefined, abandoned?: AbortSignal): Promise<ProbeOutcome> {
    const gen = this.opts.generations.current;
    const source = gen?.sources.get(sourceName);
    if (!gen || !source) return { read: false, status: 400, why: this.whyNoSource(sourceName) };
    let target: ResolvedTarget | undefined;
    if (targetName !== undefined) {
      const lookup = source.lookup(targetName);
      if (!lookup.ok) return { read: false, status: lookup.status, why: lookup.message };
      target = lookup.target;
    }
    const { result, record } = await this.idleGc.around(() => this.withDeadlines(gen, (deadlineOf) => this.readSource(source, deadlineOf(source), 'probe', target), timeoutHeader, abandoned));
    return { read: true, source, record, metrics: renderSourceChunks([result], this.renderFailed) };
  }

  /**
   * Runs `read` with the scrape's deadlines, cut when `abandoned` aborts (the client went away) or
   * the exporter shuts down, and frees their timers when it is over. `gen` stays open until then.
   */
  private async withDeadlines<T>(
    gen: Generation,
    read: (deadlineOf: (source: Source) => Deadline) => Promise<T>,
    timeoutHeader: string | undefined,
    abandoned: AbortSignal | undefined,
  ): Promise<T> {
    const deadlines = new ScrapeDeadlines();
    const cut = () => deadlines.cut(CLIENT_GONE);
    if (abandoned?.aborted) cut();
    abandoned?.addEventListener('abort', cut);
    this.opts.generations.begin(gen, deadlines);
    // Seconds a source may take: Prometheus's timeout header (else the config's), less the offset, capped by the source's own.
    const defaultSeconds = gen.loaded.config.global.scrape_timeout / 1000;
    const budgetOf = (source: Source) => probeTimeoutSeconds(timeoutHeader, source.timeoutSeconds, this.opts.timeoutOffsetSeconds, defaultSeconds);
    try {
      return await read((source) => deadlines.after(budgetOf(source)));
    } finally {
      abandoned?.removeEventListener('abort', cut);
      deadlines.dispose();
      this.opts.generations.end(gen, deadlines);
    }
  }

  /**
   * Reads a source (or one register of it), keeping its logs in the history and its readings in the
   * status; the process log gets what changed (logReadChanges), the history every register's detail too.
   */
  private async readSource(source: Source, deadline: Deadline, via: ReadRecord['via'], target?: ResolvedTarget): Promise<{ result: SourceReading; record: ReadRecord }> {
    const entry = this.opts.history.begin(source.name, via, target?.kkt, target?.adHoc);
    const log = this.opts.log.tee(entry.capture).child({ source: source.name });
    const result = await readSafely(source, { deadline, log }, target);
    const record = entry.finish({ success: result.success, durationSeconds: result.durationSeconds, ...(result.error !== undefined ? { error: result.error } : {}) });
    // What a scrape abandoned by its client saw is cut off, and nobody saw it: the landing page keeps the last answer.
    if (deadline.cutFor !== CLIENT_GONE) logReadChanges(result, this.opts.status.record(result, record), target === undefined, log);
    // Still the record's: its log is the same list after finish.
    log.debug('probe finished', { success: result.success, duration_seconds: result.durationSeconds.toFixed(3) });
    return { result, record };
  }

  /** A source whose readings could not be written (past V8's longest string, say) is answered as failed. */
  private readonly renderFailed = (source: string, err: unknown): void => {
    this.opts.log.error("cannot write the source's metrics; answering it as failed", { source, err: errorMessage(err) });
  };

  /** Why `/probe` cannot read a source here: unknown, or served by another shard. */
  private whyNoSource(name: string): string {
    const { generations, shard } = this.opts;
    const config = generations.current?.loaded.config.sources.find((s) => s.name === name);
    const owner = config && ownerOfSource(config, shard);
    if (owner !== undefined) return `source "${name}" belongs to shard ${owner}/${shard.count}: probe it there`;
    return `unknown source "${name}"`;
  }
}

/** Why a scrape's deadline came early, when its client went away: what its cut-off reads say. */
const CLIENT_GONE = 'the scrape was abandoned: its client went away';

/**
 * The result of a source's read; a source that throws, despite its promise not to, is down for the
 * error and logs it once, as node_exporter's collectors do: it never fails another source or the scrape.
 */
async function readSafely(source: Source, ctx: ReadContext, target: ResolvedTarget | undefined): Promise<SourceReading> {
  const started = performance.now();
  try {
    return await source.read(ctx, target);
  } catch (err) {
    ctx.log.error('the source failed', { err: errorMessage(err) });
    return { ...sourceReading(source.name, started, false, [], `the source failed: ${errorMessage(err)}`), sourceUp: false };
  }
}
