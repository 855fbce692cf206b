import pLimit from 'p-limit';
import { ConfigError, loadConfig, type ConfigRules, type LoadedConfig } from '../config/load.js';
import type { ScrapeDeadlines } from '../deadline/scrape-deadlines.js';
import { errorMessage, type Logger } from '../log.js';
import type { Source } from '../sources/source.js';
import type { Config } from '../sources/vendors.js';

/** A reload that did not load: when, and why (the text the log shows). */
export interface ReloadFailure {
  at: Date;
  error: string;
}

/** A loaded config and the sources built from it; replaced whole on a successful reload. */
export class Generation {
  readonly loadedAt = new Date();
  /** Scrapes and probes reading its sources now. */
  private scrapes = 0;
  /** A reload replaced it: its sources close when its last scrape ends. */
  private retired = false;

  constructor(
    readonly loaded: LoadedConfig<Config>,
    readonly sources: ReadonlyMap<string, Source>,
  ) {}

  hold(): void {
    this.scrapes++;
  }

  release(): void {
    if (--this.scrapes === 0 && this.retired) void this.close();
  }

  /** A reload replaced it: its sources are closed once the scrapes reading them end (at once if none). */
  retire(): void {
    this.retired = true;
    if (this.scrapes === 0) void this.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.close().catch(() => {})));
  }
}

export interface GenerationsOptions {
  configFile: string;
  rules: ConfigRules<Config>;
  log: Logger;
  /** Builds the sources of a loaded config. */
  build(config: Config): Map<string, Source>;
  /** A new generation, with these sources, is in place. */
  installed(sources: ReadonlySet<string>): void;
  /** A load failed: the running generation, if any, stays. */
  failed(): void;
}

/**
 * The config generations: the one scrapes read now, reloads that replace it, the older ones still
 * read by scrapes in flight, and the shutdown that cuts those scrapes short.
 */
export class Generations {
  private gen: Generation | undefined;
  /** The scrapes and probes in flight, each by its deadlines: cut when the exporter shuts down. */
  private readonly inFlight = new Set<ScrapeDeadlines>();
  private shuttingDown = false;
  private readonly reloadLock = pLimit(1);
  private failure: ReloadFailure | undefined;

  constructor(private readonly opts: GenerationsOptions) {}

  /** The generation scrapes start on; undefined until a config has loaded. */
  get current(): Generation | undefined {
    return this.gen;
  }

  get ready(): boolean {
    return this.gen !== undefined && !this.shuttingDown;
  }

  /** The last reload, when it failed; a successful one clears it. */
  get lastReloadFailure(): ReloadFailure | undefined {
    return this.failure;
  }

  /** When the config in force was loaded. */
  get loadedAt(): Date | undefined {
    return this.gen?.loadedAt;
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

  /** A scrape of `gen` begins: its sources stay open, and a shutdown cuts `deadlines`, until it ends. */
  begin(gen: Generation, deadlines: ScrapeDeadlines): void {
    this.inFlight.add(deadlines);
    gen.hold();
  }

  end(gen: Generation, deadlines: ScrapeDeadlines): void {
    this.inFlight.delete(deadlines);
    gen.release();
  }

  /** Loads the config file; on failure keeps the running generation and reports why. */
  reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    return this.reloadLock(async () => {
      const { configFile: file, log } = this.opts;
      try {
        const loaded = await loadConfig(file, this.opts.rules);
        this.install(loaded);
        this.failure = undefined;
        log.info('config loaded', { file, sources: loaded.config.sources.length });
        return { ok: true as const };
      } catch (err) {
        this.opts.failed();
        const error = err instanceof ConfigError ? err.message : errorMessage(err);
        log.error(this.gen ? 'config not loaded; keeping the previous one' : 'config not loaded', { file, err: error });
        this.failure = { at: new Date(), error };
        return { ok: false as const, error };
      }
    });
  }

  private install(loaded: LoadedConfig<Config>): void {
    const sources = this.opts.build(loaded.config);
    const old = this.gen;
    this.gen = new Generation(loaded, sources);
    this.opts.installed(new Set(sources.keys()));
    old?.retire();
  }

  async close(): Promise<void> {
    await this.gen?.close();
  }
}

/** Why a scrape's deadline came early, when the exporter cut it. */
const SHUT_DOWN = 'the exporter is shutting down';
