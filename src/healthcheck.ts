#!/usr/bin/env node
/**
 * The container's health check: `node /app/dist/healthcheck.js` GETs /-/healthy from the exporter and
 * exits 0 when it answers, 1 with one line on stderr when it does not.
 *
 * Docker runs HEALTHCHECK without the container's CMD arguments, so, given no flags, the check reads the
 * running exporter's own command line from /proc/PID/cmdline: PID 1 (the image's ENTRYPOINT), else the one
 * node process here running kkt-exporter's cli.js (not a wrapper around it, such as `timeout`). From it
 * come --web.listen-address (the port, and the host unless it is a wildcard, which means loopback) and
 * --web.config.file (TLS means https; basic auth),
 * so `docker run ... kkt-exporter --web.listen-address=:9443 --web.config.file=/etc/kkt/web.yml` needs
 * nothing repeated. Flags:
 *   --web.listen-address=HOST:PORT, --web.config.file=PATH  as the exporter's; given either, /proc is not read
 *   --pid=PID          read the flags of the exporter running as PID
 *   --timeout=SECONDS  give up after this long (default 4; Docker's HEALTHCHECK --timeout is 5s)
 *
 * TLS: the certificate is not verified. The check connects only to the address the exporter itself
 * listens on (this container's own interface), sends no credentials, and the server's certificate is
 * issued for the name clients use, not for 127.0.0.1, so verifying it would only fail.
 * Basic auth: list /-/healthy in the web config's unauthenticated_paths for a full check. If it is not
 * listed, the exporter's 401 still shows that it accepts and answers requests, so the check passes and
 * says so on stdout (it has no password to send: the web config holds only bcrypt hashes). Likewise a
 * server that requires client certificates and completes the TLS handshake before refusing the check.
 * Nothing read from the web config is printed.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatProblem } from './config/load.js';
import { parseListenAddress } from './server/listen.js';
import { loadWebConfig, type LoadedWebConfig } from './server/web-config.js';

const PATH = '/-/healthy';
const USAGE = `usage: node dist/healthcheck.js [flags]

GETs /-/healthy from kkt-exporter; exit 0 when healthy, 1 with one line on stderr when not.
With no flags it reads --web.listen-address and --web.config.file from the running exporter
(/proc/1/cmdline, else the one process running kkt-exporter).

  --web.listen-address=HOST:PORT  the exporter's (default :10054)
  --web.config.file=PATH          the exporter's web config: TLS means https, basic auth is expected
  --pid=PID                       read the flags of the exporter running as PID
  --timeout=SECONDS               give up after this long (default 4)
  -h, --help                      this text
`;
const DEFAULT_LISTEN = ':10054';

class Unhealthy extends Error {}

interface Target {
  listenAddress: string;
  webConfigFile: string | undefined;
}

/** Node's options that take their value as the next argument (`node -r ./hook.js dist/cli.js`). */
const NODE_OPTIONS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--inspect-port', '--input-type']);

/**
 * Where the exporter's script is in a process's command line when the process is the exporter
 * itself, else -1: node, its own options, then the script (/app/dist/cli.js, or a global install's
 * kkt-exporter, which its shebang runs as `node --expose-gc .../kkt-exporter`). A process that
 * merely names the script (`timeout 60 node dist/cli.js`, `sh -c "..."`, `npx kkt-exporter`) is not.
 */
function exporterScriptIndex(argv: readonly string[]): number {
  if (!/(^|\/)node(js)?$/.test(argv[0] ?? '')) return -1;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) return /(^|\/)(dist\/cli\.js|kkt-exporter)$/.test(arg) ? i : -1;
    if (NODE_OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return -1;
}

/** The exporter's flags as a process was started with them, or undefined when it is not kkt-exporter. */
function flagsOfProcess(pid: string): Target | undefined {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
  const script = exporterScriptIndex(argv);
  if (script < 0) return undefined;
  const { values } = parseArgs({
    args: argv.slice(script + 1),
    strict: false,
    allowPositionals: true,
    options: { 'web.listen-address': { type: 'string' }, 'web.config.file': { type: 'string' }, demo: { type: 'boolean' } },
  });
  const listen = values['web.listen-address'];
  const webConfig = values['web.config.file'];
  let cwd = '/';
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    // a relative --web.config.file is then read from /
  }
  return {
    listenAddress: typeof listen === 'string' ? listen : values.demo === true ? '127.0.0.1:10054' : DEFAULT_LISTEN,
    webConfigFile: typeof webConfig === 'string' ? resolve(cwd, webConfig) : undefined,
  };
}

function findExporter(): Target {
  const first = flagsOfProcess('1');
  if (first) return first;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && p !== String(process.pid));
  } catch {
    // no /proc: not Linux; the defaults below
  }
  const found = pids.flatMap((pid) => {
    const flags = flagsOfProcess(pid);
    return flags ? [{ pid, flags }] : [];
  });
  if (found.length > 1) {
    throw new Unhealthy(`${found.length} kkt-exporter processes run here (PIDs ${found.map((f) => f.pid).join(', ')}): pass --pid or --web.listen-address`);
  }
  return found[0]?.flags ?? { listenAddress: DEFAULT_LISTEN, webConfigFile: undefined };
}

function get(url: URL, tls: boolean, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const options = { agent: false, signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'kkt-exporter-healthcheck' } } as const;
    const req = tls ? httpsRequest(url, { ...options, rejectUnauthorized: false }, resolvePromise) : httpRequest(url, options, resolvePromise);
    req.on('error', reject);
    req.end();
  });
}

function describeError(err: NodeJS.ErrnoException, tls: boolean, timeoutS: number): string {
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return `no answer within ${timeoutS} s`;
  if (err.code === 'ECONNREFUSED') return 'connection refused (is the exporter running, and listening there?)';
  if (!tls && err.code === 'ECONNRESET') return 'connection reset (does the exporter serve TLS? then the check needs its --web.config.file)';
  if (tls && /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(err.code ?? '')) return 'no TLS there (the web config has TLS, the exporter at this address does not)';
  // OpenSSL's messages run long; its codes (ERR_SSL_...) say it.
  return err.code?.startsWith('ERR_SSL') ? err.code : err.code ? `${err.code}: ${err.message}` : err.message;
}

async function check(argv: string[]): Promise<string | undefined> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'web.listen-address': { type: 'string' },
      'web.config.file': { type: 'string' },
      pid: { type: 'string' },
      timeout: { type: 'string', default: '4' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) throw new Unhealthy('--timeout must be a number of seconds > 0');
  let target: Target;
  if (values['web.listen-address'] !== undefined || values['web.config.file'] !== undefined) {
    target = { listenAddress: values['web.listen-address'] ?? DEFAULT_LISTEN, webConfigFile: values['web.config.file'] };
  } else if (values.pid !== undefined) {
    const flags = flagsOfProcess(values.pid);
    if (!flags) throw new Unhealthy(`process ${values.pid} is not a running kkt-exporter`);
    target = flags;
  } else {
    target = findExporter();
  }

  const address = parseListenAddress(target.listenAddress);
  if (!address) throw new Unhealthy(`--web.listen-address must be HOST:PORT or :PORT, got "${target.listenAddress}"`);
  let web: LoadedWebConfig | undefined;
  if (target.webConfigFile !== undefined) {
    try {
      web = await loadWebConfig(target.webConfigFile);
    } catch (err) {
      // Its first file:line:col problem: the loader's messages never quote a hash or a key.
      throw new Unhealthy(`web config invalid: ${err instanceof ConfigError ? (err.problems[0] ? formatProblem(err.problems[0]) : err.message) : String(err)}`);
    }
  }
  const tls = web?.tls !== undefined;
  const wildcard = address.host === undefined || address.host === '0.0.0.0' || address.host === '::';
  const host = wildcard ? '127.0.0.1' : address.host!.includes(':') ? `[${address.host}]` : address.host!;
  const url = new URL(`${tls ? 'https' : 'http'}://${host}:${address.port}${PATH}`);

  let res: IncomingMessage;
  try {
    res = await get(url, tls, timeoutS * 1000);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (web?.tls?.options.requestCert && /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE/.test(e.code ?? '')) {
      return `healthy: ${url} completed the TLS handshake, then required a client certificate, which the health check has none of`;
    }
    throw new Unhealthy(`${url}: ${describeError(e, tls, timeoutS)}`);
  }
  res.resume();
  const status = res.statusCode ?? 0;
  if (status === 200) return undefined;
  if (status === 401 && web?.config.basic_auth_users && !web.config.unauthenticated_paths.includes(PATH)) {
    return `healthy: ${url} answered 401; add ${PATH} to unauthenticated_paths in the web config for a full check`;
  }
  throw new Unhealthy(`${url}: answered ${status}`);
}

check(process.argv.slice(2)).then(
  (note) => {
    if (note) process.stdout.write(`${note}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`kkt-exporter healthcheck: ${message.split('\n')[0]}\n`);
    process.exit(1);
  },
);
