/**
 * A small structured logger in the format Prometheus exporters use (go-kit / slog logfmt or JSON),
 * so the exporter's logs look like blackbox_exporter's next to them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
export const LOG_LEVELS = Object.keys(LEVELS) as LogLevel[];

export interface LogRecord {
  ts: string;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

export type LogSink = (record: LogRecord) => void;

export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly minLevel: LogLevel = 'info',
    private readonly fields: LogFields = {},
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.sink, this.minLevel, { ...this.fields, ...fields });
  }

  /** A logger that also hands every record (at any level) to `capture`, e.g. for `/probe?debug=true`. */
  tee(capture: LogSink): Logger {
    const { sink, minLevel } = this;
    return new Logger(
      (r) => {
        capture(r);
        if (LEVELS[r.level] >= LEVELS[minLevel]) sink(r);
      },
      'debug',
      this.fields,
    );
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVELS[level] < LEVELS[this.minLevel]) return;
    this.sink({ ts: new Date().toISOString(), level, msg, fields: { ...this.fields, ...fields } });
  }
}

function logfmtValue(value: unknown): string {
  const text = value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

export function formatLogfmt(r: LogRecord): string {
  const parts = [`ts=${r.ts}`, `level=${r.level}`];
  for (const [k, v] of Object.entries(r.fields)) if (v !== undefined) parts.push(`${k}=${logfmtValue(v)}`);
  parts.push(`msg=${logfmtValue(r.msg)}`);
  return parts.join(' ');
}

export function formatJson(r: LogRecord): string {
  const fields = Object.fromEntries(
    Object.entries(r.fields).map(([k, v]) => [k, v instanceof Error ? v.message : v]),
  );
  return JSON.stringify({ ts: r.ts, level: r.level, msg: r.msg, ...fields });
}

export function streamSink(format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): LogSink {
  const fmt = format === 'json' ? formatJson : formatLogfmt;
  return (r) => write(fmt(r) + '\n');
}

export function createLogger(level: LogLevel = 'info', format: LogFormat = 'logfmt'): Logger {
  return new Logger(streamSink(format), level);
}

export const silentLogger = new Logger(() => {}, 'error');

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
