import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from './config/duration.js';
import { loadConfig } from './config/load.js';
import { startDemo, demoBanner, type Demo } from './demo.js';
import { Exporter } from './exporter/exporter.js';
import { createLogger, errorMessage, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from './log.js';
import { rulesCommand } from './rules.js';
import { createApp } from './server/app.js';
import type { PageThresholds } from './server/landing.js';
import { listen, parseListenAddress, shutdown, SHUTDOWN_WRITE_GRACE_MS, type ListenAddress } from './server/listen.js';
import { LiveWebConfig } from './server/live-web-config.js';
import { describeWebConfig, loadWebConfig } from './server/web-config.js';
import { Shard } from './shard.js';
import { CONFIG_RULES, SOURCE_TYPES } from './sources/vendors.js';
import { DEFAULT_THRESHOLDS_FILE, loadThresholds } from './status/thresholds.js';
import { VERSION } from './version.js';

/** Each flag's default, written once for the parser and the usage text. */
const DEFAULTS = {
  'config.file': 'kkt-exporter.yml',
  'web.listen-address': ':10054',
  /** `--demo` listens on loopback only: its simulated vendors answer anyone who reaches them. */
  demoListenAddress: '127.0.0.1:10054',
  'timeout-offset': '0.5',
  shard: '1/1',
  /** How long a SIGTERM waits for the scrapes in flight: Kubernetes gives 30 s in all. */
  'web.shutdown-timeout': '5s',
  'log.level': 'info',
  'log.format': 'logfmt',
} as const;

const USAGE = `usage: kkt-exporter [flags]
       kkt-exporter rules [flags]   the alert rules for a thresholds file (kkt-exporter rules --help)

Prometheus exporter for cash registers (KKT). Source types: ${SOURCE_TYPES.join(', ')}.

  --config.file=PATH             YAML config (default ${DEFAULTS['config.file']})
  --config.check                 validate the config (and --web.config.file), print problems as
                                 file:line:col: message, exit 0/1
  --web.listen-address=HOST:PORT listen address, may be given more than once (default
                                 ${DEFAULTS['web.listen-address']}; ${DEFAULTS.demoListenAddress} with --demo)
  --web.config.file=PATH         TLS and basic auth (exporter-toolkit format), re-read on reload
  --timeout-offset=SECONDS       subtracted from Prometheus's scrape timeout (default ${DEFAULTS['timeout-offset']})
  --shard=K/N                    serve shard K of N processes sharing this config (default ${DEFAULTS.shard})
  --web.external-url=URL         the address Prometheus reaches this exporter at, for /sd targets
  --web.shutdown-timeout=DUR     on SIGTERM or SIGINT, how long the scrapes in flight may still
                                 take before they answer with what they have (default ${DEFAULTS['web.shutdown-timeout']})
  --alerts.thresholds-file=PATH  the alert thresholds the landing page judges registers by
                                 (default: examples/alerts/thresholds.yml of the package)
  --log.level=LEVEL              debug, info, warn or error (default ${DEFAULTS['log.level']})
  --log.format=FORMAT            logfmt or json (default ${DEFAULTS['log.format']})
  --demo                         run the built-in simulated fleet on loopback and monitor it
  --version                      print the version
  -h, --help                     this text
`;

interface Flags {
  configFile: string;
  configCheck: boolean;
  listenAddresses: string[] | undefined;
  webConfigFile: string | undefined;
  shard: Shard;
  externalUrl: URL | undefined;
  shutdownTimeoutMs: number;
  thresholdsFile: string | undefined;
  timeoutOffset: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  demo: boolean;
  version: boolean;
  help: boolean;
}

function externalUrlOf(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // refused below
  }
  throw new Error(`--web.external-url must be an http:// or https:// URL, got "${text}"`);
}

export function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'config.file': { type: 'string', default: DEFAULTS['config.file'] },
      'config.check': { type: 'boolean', default: false },
      'web.listen-address': { type: 'string', multiple: true },
      'web.config.file': { type: 'string' },
      'timeout-offset': { type: 'string', default: DEFAULTS['timeout-offset'] },
      shard: { type: 'string', default: DEFAULTS.shard },
      'web.external-url': { type: 'string' },
      'web.shutdown-timeout': { type: 'string', default: DEFAULTS['web.shutdown-timeout'] },
      'alerts.thresholds-file': { type: 'string' },
      'log.level': { type: 'string', default: DEFAULTS['log.level'] },
      'log.format': { type: 'string', default: DEFAULTS['log.format'] },
      demo: { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const timeoutOffset = Number(values['timeout-offset']);
  if (!Number.isFinite(timeoutOffset) || timeoutOffset < 0) throw new Error('--timeout-offset must be a number of seconds >= 0');
  const shutdownTimeoutMs = parseDuration(values['web.shutdown-timeout'] as string);
  if (shutdownTimeoutMs === undefined) throw new Error('--web.shutdown-timeout must be a duration such as 5s or 500ms');
  const logLevel = values['log.level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`--log.level must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = values['log.format'] as LogFormat;
  if (logFormat !== 'logfmt' && logFormat !== 'json') throw new Error('--log.format must be logfmt or json');
  return {
    configFile: values['config.file'] as string,
    configCheck: values['config.check'] as boolean,
    listenAddresses: values['web.listen-address'],
    webConfigFile: values['web.config.file'],
    shard: Shard.parse(values.shard as string),
    externalUrl: externalUrlOf(values['web.external-url']),
    shutdownTimeoutMs,
    thresholdsFile: values['alerts.thresholds-file'],
    timeoutOffset,
    logLevel,
    logFormat,
    demo: values.demo as boolean,
    version: values.version as boolean,
    help: values.help as boolean,
  };
}

/**
 * The thresholds for the landing page: a file given with --alerts.thresholds-file must be read (else
 * undefined: the exporter does not start); without it the package's own, and if that is missing the
 * page flags only registers not read.
 */
async function pageThresholds(file: string | undefined, log: Logger): Promise<PageThresholds | undefined> {
  try {
    return { ok: true, thresholds: await loadThresholds(file ?? DEFAULT_THRESHOLDS_FILE) };
  } catch (err) {
    if (file !== undefined) {
      log.error('cannot read the alert thresholds', { err: errorMessage(err) });
      return undefined;
    }
    log.warn('the landing page flags only registers not read: the default alert thresholds could not be read', { err: errorMessage(err) });
    return { ok: false, error: errorMessage(err) };
  }
}

async function checkConfig(file: string, webConfigFile: string | undefined): Promise<number> {
  let failed = false;
  try {
    const { config } = await loadConfig(file, CONFIG_RULES);
    const registers = config.sources.reduce((n, s) => n + ('registers' in s ? s.registers.length : 0), 0);
    process.stdout.write(`${file}: OK (${config.sources.length} sources, ${registers} configured registers)\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    failed = true;
  }
  if (webConfigFile === undefined) return failed ? 1 : 0;
  try {
    const web = await loadWebConfig(webConfigFile);
    process.stdout.write(`${describeWebConfig(web)}\n`);
    for (const warning of web.warnings) process.stdout.write(`${webConfigFile}: warning: ${warning}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    failed = true;
  }
  return failed ? 1 : 0;
}

/** Every --web.listen-address, parsed; undefined (after saying why) when one is not HOST:PORT. */
function listenAddressesOf(flags: Flags): ListenAddress[] | undefined {
  const texts = flags.listenAddresses ?? [flags.demo ? DEFAULTS.demoListenAddress : DEFAULTS['web.listen-address']];
  const addresses = texts.map(parseListenAddress);
  const bad = texts.find((_, i) => addresses[i] === undefined);
  if (bad === undefined) return addresses as ListenAddress[];
  process.stderr.write(`kkt-exporter: --web.listen-address must be HOST:PORT or :PORT, got "${bad}"\n`);
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'rules') return rulesCommand(argv.slice(1));
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`kkt-exporter: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`kkt-exporter ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  if (flags.configCheck) return checkConfig(flags.configFile, flags.webConfigFile);
  const addresses = listenAddressesOf(flags);
  if (!addresses) return 1;
  const log = createLogger(flags.logLevel, flags.logFormat);
  let web: LiveWebConfig | undefined;
  try {
    if (flags.webConfigFile !== undefined) web = await LiveWebConfig.load(flags.webConfigFile, log);
  } catch (err) {
    process.stderr.write(`kkt-exporter: --web.config.file: ${(err as Error).message}\n`);
    return 1;
  }
  const thresholds = await pageThresholds(flags.thresholdsFile, log);
  if (!thresholds) return 1;
  let demo: Demo | undefined;
  if (flags.demo) demo = await startDemo();
  const exporter = new Exporter({ configFile: demo?.configFile ?? flags.configFile, timeoutOffsetSeconds: flags.timeoutOffset, log, shard: flags.shard });
  const loaded = await exporter.reload();
  if (!loaded.ok) {
    await demo?.fleet.stop();
    return 1;
  }

  const servers: Server[] = [];
  try {
    const app = createApp(exporter, { externalUrl: flags.externalUrl, thresholds, reloadWebConfig: web && (() => web.reload()), ...(web ? { webConfig: web } : {}) });
    const handler = web ? web.handler(app) : app;
    for (const [i, address] of addresses.entries()) {
      const started = await listen(handler, address, web?.tls?.options);
      servers.push(started.server);
      web?.attach(started.server);
      log.info('listening', { address: flags.listenAddresses?.[i] ?? `${address.host ?? ''}:${address.port}`, url: started.url, version: VERSION, shard: flags.shard.toString() });
      if (demo && i === 0) process.stdout.write(demoBanner(demo, started.url.replace('127.0.0.1', 'localhost')));
    }
  } catch (err) {
    log.error('cannot listen', { err });
    for (const server of servers) server.close();
    await demo?.fleet.stop();
    return 1;
  }

  process.on('SIGHUP', () => void Promise.all([exporter.reload(), web?.reload()]));
  return new Promise<number>((resolve) => {
    let draining = false;
    const stop = (signal: string) => {
      if (draining) {
        log.warn('second signal: exiting now, without waiting for the scrapes in flight', { signal });
        return resolve(1);
      }
      draining = true;
      log.info('shutting down: no new connections; the scrapes in flight finish first', { signal, timeout: `${flags.shutdownTimeoutMs / 1000}s` });
      exporter.drain();
      let hurried = false;
      const hurry = () => {
        if (hurried) return;
        hurried = true;
        log.warn('the shutdown timeout came: the scrapes still in flight answer with what they have', { timeout: `${flags.shutdownTimeoutMs / 1000}s` });
        exporter.cutScrapes();
      };
      void Promise.all(servers.map((server) => shutdown(server, flags.shutdownTimeoutMs, hurry)))
        // A vendor request that outlives every scrape (an X-report) is not waited for long.
        .then(() => Promise.race([Promise.all([exporter.close(), demo?.fleet.stop(), web?.close()]), sleep(SHUTDOWN_WRITE_GRACE_MS, undefined, { ref: false })]))
        .finally(() => resolve(0));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

