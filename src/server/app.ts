import express, { type NextFunction, type Request, type Response } from 'express';
import { Registry } from 'prom-client';
import { SCRAPE_TIMEOUT_HEADER } from '../deadline/deadline.js';
import type { Exporter } from '../exporter/exporter.js';
import { errorMessage } from '../log.js';
import { encodeAnswer, SYNC_GZIP_BELOW, type ScrapeBody } from './compress.js';
import { landingPage, type PageThresholds, type ReloadState } from './landing.js';
import { landingQuery } from './landing-query.js';
import { fleetFnPlan } from './fn-plan-page.js';
import { planCsv, planDays } from '../status/fn-plan.js';
import { probeDebugText, probeLogAnswer } from './probe-text.js';
import { addressOf, targetGroups } from './service-discovery.js';

const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
/** The type of every text for a person: errors, `/probe?debug=true`, `/logs`. */
const TEXT = 'text/plain; charset=utf-8';

const PROBE_PARAMS = new Set(['source', 'target', 'debug']);

/** A single string query parameter; repeated or nested values are refused. */
function param(req: Request, name: string): string | undefined | null {
  const v = req.query[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}

/**
 * Sends a large answer (a scrape's Prometheus text, or the landing page at fleet size) with its
 * content type, gzip-compressed when the request's Accept-Encoding asks for it (Prometheus always
 * does; see compress.ts). The answer varies with Accept-Encoding whichever way it goes. If
 * compression fails, the plain text goes out.
 */
async function sendCompressed(exporter: Exporter, req: Request, res: Response, status: number, contentType: string, body: ScrapeBody): Promise<void> {
  const answer = await encodeAnswer(body, req.get('Accept-Encoding'));
  if (answer.error !== undefined) exporter.log.warn('gzip failed; answering uncompressed', { path: req.path, err: errorMessage(answer.error) });
  res.vary('Accept-Encoding');
  if (answer.gzip) res.set('Content-Encoding', 'gzip');
  res.status(status).type(contentType);
  if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) res.send(answer.body);
  else await sendChunks(res, answer.body);
}

/**
 * Writes a plain answer's chunks one after another (chunked transfer coding), never as one string;
 * a small one (under SYNC_GZIP_BELOW characters, what compress.ts calls small) goes out whole, with
 * its Content-Length. Waits when the socket is full, until the client has read or gone.
 */
async function sendChunks(res: Response, chunks: readonly string[]): Promise<void> {
  if (chunks.reduce((n, c) => n + c.length, 0) < SYNC_GZIP_BELOW) {
    res.send(chunks.join(''));
    return;
  }
  for (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  res.end();
}

function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Aborts when the client closes the connection before its answer is out: the scrape then stops costing. */
function abandonedSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function probeHandler(exporter: Exporter) {
  return async (req: Request, res: Response): Promise<void> => {
    const unknown = Object.keys(req.query).filter((k) => !PROBE_PARAMS.has(k));
    if (unknown.length > 0) {
      res.status(400).type('text/plain').send(`unknown parameter(s): ${unknown.join(', ')}; /probe takes source, target and debug\n`);
      return;
    }
    const source = param(req, 'source');
    const target = param(req, 'target');
    const debug = param(req, 'debug');
    if (source === null || target === null || debug === null) {
      res.status(400).type('text/plain').send('each parameter may be given once\n');
      return;
    }
    if (!source) {
      res.status(400).type(TEXT).send('source parameter is missing\n');
      return;
    }
    const abandoned = abandonedSignal(res);
    const probe = await exporter.scrapes.probe(source, target, req.get(SCRAPE_TIMEOUT_HEADER), abandoned);
    if (abandoned.aborted) return;
    // Only the metrics are compressed: the debug page and the error texts are for a person (curl
    // without --compressed), small or rare, and stay plain.
    if (!probe.read) res.status(probe.status).type(TEXT).send(`${probe.why}\n`);
    else if (debug === 'true') res.status(200).type(TEXT).send(probeDebugText(probe.record, probe.metrics, probe.source));
    else await sendCompressed(exporter, req, res, 200, CONTENT_TYPE, probe.metrics);
  };
}

export interface AppOptions {
  /** `--web.external-url`: the address `/sd` gives Prometheus. */
  externalUrl?: URL;
  /** The alert thresholds the landing page judges readings by. */
  thresholds?: PageThresholds;
  /** `POST /-/reload` also re-reads `--web.config.file` when one is given. */
  reloadWebConfig?: () => Promise<{ ok: true } | { ok: false; error: string }>;
  /** The web config's last reload when it failed, and when the one in force was loaded: the landing page's banner. */
  webConfig?: ReloadState;
}

const NO_THRESHOLDS: PageThresholds = { ok: false, error: 'no thresholds file given' };

export function createApp(exporter: Exporter, opts: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // An ETag would hash every multi-megabyte scrape answer for nothing: scrapes are never cached.
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.get('/metrics', async (req, res) => {
    const abandoned = abandonedSignal(res);
    const body = await exporter.scrapes.metrics(req.get(SCRAPE_TIMEOUT_HEADER), abandoned);
    if (!abandoned.aborted) await sendCompressed(exporter, req, res, 200, CONTENT_TYPE, body);
  });
  app.get('/probe', probeHandler(exporter));
  app.get('/sd', (req, res) => {
    res.type('application/json').send(JSON.stringify(targetGroups(exporter.sources, addressOf(req, opts.externalUrl))));
  });
  app.get('/', async (req, res) => {
    const query = landingQuery(req.query);
    if (!query.ok) {
      res.status(400).type(TEXT).send(`${query.error}\n`);
      return;
    }
    const page = landingPage(exporter, opts.thresholds ?? NO_THRESHOLDS, { query: query.query, ...(opts.webConfig ? { webConfig: opts.webConfig } : {}) });
    await sendCompressed(exporter, req, res, 200, 'text/html; charset=utf-8', page);
  });
  app.get('/fn.csv', (req, res) => {
    const days = planDays(req.query.days);
    if ('error' in days) res.status(400).type(TEXT).send(`${days.error}\n`);
    else res.type('text/csv; charset=utf-8').send(planCsv(fleetFnPlan(exporter.status, Date.now(), days.days)));
  });
  app.get('/logs', (req, res) => {
    const id = param(req, 'id');
    if (typeof id !== 'string' || !/^\d{1,15}$/.test(id)) {
      res.status(400).type('text/plain').send('id parameter missing or not a probe number\n');
      return;
    }
    const answer = probeLogAnswer(exporter.history, Number(id));
    res.status(answer.status).type(TEXT).send(answer.body);
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('Healthy\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (exporter.ready) res.type('text/plain').send('Ready\n');
    else res.status(503).type('text/plain').send(`Not ready: ${exporter.draining ? 'shutting down' : 'no config loaded'}\n`);
  });
  app.post('/-/reload', async (_req, res) => {
    const [result, web] = await Promise.all([exporter.reload(), opts.reloadWebConfig?.()]);
    const lines = [result.ok ? 'config reloaded' : `failed to reload config: ${result.error}`];
    if (web) lines.push(web.ok ? 'web config reloaded' : `failed to reload web config, keeping the previous one: ${web.error}`);
    res.status(result.ok && web?.ok !== false ? 200 : 500).type('text/plain').send(`${lines.join('\n')}\n`);
  });
  app.all('/-/reload', (_req, res) => {
    res.status(405).type('text/plain').send('This endpoint requires a POST request.\n');
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    exporter.log.error('request failed', { err: errorMessage(err) });
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  });
  return app;
}
