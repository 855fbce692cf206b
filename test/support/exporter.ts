import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../../src/exporter/exporter.js';
import { Logger, type LogRecord } from '../../src/log.js';
import { createApp, type AppOptions } from '../../src/server/app.js';
import { listen } from '../../src/server/listen.js';
import { parseMetrics, type Series } from './metrics.js';

export interface RunningExporter {
  exporter: Exporter;
  url: string;
  configFile: string;
  logs: LogRecord[];
  stop(): Promise<void>;
}

/** The exporter in this process, serving on a loopback port, with its config in a temp file. */
export async function startExporter(configYaml: string, appOptions: AppOptions = {}): Promise<RunningExporter> {
  const dir = await mkdtemp(join(tmpdir(), 'kkt-exporter-test-'));
  const configFile = join(dir, 'kkt-exporter.yml');
  await writeFile(configFile, configYaml);
  const logs: LogRecord[] = [];
  const exporter = new Exporter({ configFile, timeoutOffsetSeconds: 0.5, log: new Logger((r) => logs.push(r), 'debug') });
  const loaded = await exporter.reload();
  if (!loaded.ok) throw new Error(loaded.error);
  const { server, url } = await listen(createApp(exporter, appOptions), { host: '127.0.0.1', port: 0 });
  return {
    exporter,
    url,
    configFile,
    logs,
    async stop() {
      await closeServer(server);
      await exporter.close();
    },
  };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** GETs a scrape path of a running exporter, checks the 200, and parses the series. */
export async function scrapeSeries(app: RunningExporter, path = '/metrics'): Promise<Series[]> {
  const res = await get(`${app.url}${path}`);
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${res.text}`);
  return parseMetrics(res.text);
}
