import express, { type NextFunction, type Request, type Response } from 'express';
import { CONTENT_TYPE, type Exporter } from '../exporter.js';
import { SCRAPE_TIMEOUT_HEADER } from '../http/deadline.js';
import { errorMessage } from '../log.js';
import { landingPage } from './landing.js';

const PROBE_PARAMS = new Set(['source', 'target', 'debug']);

/** A single string query parameter; repeated or nested values are refused. */
function param(req: Request, name: string): string | undefined | null {
  const v = req.query[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
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
    const answer = await exporter.probe({ source, target, debug: debug === 'true' }, req.get(SCRAPE_TIMEOUT_HEADER));
    res.status(answer.status).type(answer.contentType).send(answer.body);
  };
}

export function createApp(exporter: Exporter): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // An ETag would hash every multi-megabyte scrape answer for nothing: scrapes are never cached.
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.get('/metrics', async (req, res) => {
    const body = await exporter.collectAll(req.get(SCRAPE_TIMEOUT_HEADER));
    res.status(200).type(CONTENT_TYPE).send(body);
  });
  app.get('/probe', probeHandler(exporter));
  app.get('/', (_req, res) => {
    res.type('html').send(landingPage(exporter));
  });
  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('Healthy\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (exporter.ready) res.type('text/plain').send('Ready\n');
    else res.status(503).type('text/plain').send('Not ready: no config loaded\n');
  });
  app.post('/-/reload', async (_req, res) => {
    const result = await exporter.reload();
    if (result.ok) res.type('text/plain').send('config reloaded\n');
    else res.status(500).type('text/plain').send(`failed to reload config: ${result.error}\n`);
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
