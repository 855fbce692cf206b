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
  /** Logged through Logger.detail(): what a read says about each register on every read. */
  detail?: true;
}

export type LogSink = (record: LogRecord) => void;

/** Whether a sink at `minLevel` writes `r`: detail records only at debug. */
function writes(minLevel: LogLevel, level: LogLevel, detail: boolean): boolean {
  return LEVELS[level] >= LEVELS[minLevel] && (!detail || minLevel === 'debug');
}

export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly minLevel: LogLevel = 'info',
    private readonly fields: LogFields = {},
    private readonly isDetail = false,
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.sink, this.minLevel, { ...this.fields, ...fields }, this.isDetail);
  }

  /**
   * A logger for the detail: what a read says about each register every time it is read. A read's
   * history (tee) keeps it; the process log writes it only at debug level, and otherwise says
   * only when a register changes (status/read-changes.ts).
   */
  detail(): Logger {
    return new Logger(this.sink, this.minLevel, this.fields, true);
  }

  /** A logger that also hands every record (at any level, detail too) to `capture`, e.g. for `/probe?debug=true`. */
  tee(capture: LogSink): Logger {
    const { sink, minLevel } = this;
    return new Logger(
      (r) => {
        capture(r);
        if (writes(minLevel, r.level, r.detail === true)) sink(r);
      },
      'debug',
      this.fields,
      this.isDetail,
    );
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!writes(this.minLevel, level, this.isDetail)) return;
    const record: LogRecord = { ts: new Date().toISOString(), level, msg, fields: { ...this.fields, ...fields } };
    if (this.isDetail) record.detail = true;
    this.sink(record);
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
