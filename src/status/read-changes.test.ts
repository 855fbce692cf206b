import { describe, expect, it } from 'vitest';
import { formatLogfmt, Logger, type LogRecord } from '../log.js';
import type { RegisterReading, SourceReading } from '../readings/reading.js';
import { FleetStatus } from './fleet-status.js';
import { ReadHistory } from './history.js';
import { logReadChanges, MAX_CHANGES_LOGGED_PER_READ, reasonClass } from './read-changes.js';

const up = (kkt: string): RegisterReading => ({ kkt, labels: {}, up: true, info: {}, samples: [{ metric: 'kkt_trading', value: 1 }], endpoints: [] });
const down = (kkt: string, error: string, trading = true): RegisterReading => ({ ...up(kkt), up: false, error, samples: [{ metric: 'kkt_trading', value: trading ? 1 : 0 }] });
const partly = (kkt: string, error: string): RegisterReading => ({ ...up(kkt), error });

/** A fleet read by whole-source scrapes, each filed as the exporter does, and what the process log (at info) and the history got. */
function fleet() {
  const status = new FleetStatus();
  const history = new ReadHistory();
  const processLog: LogRecord[] = [];
  const log = new Logger((r) => processLog.push(r), 'info');
  const scrape = (registers: RegisterReading[], target?: string) => {
    const entry = history.begin('stores', 'metrics', target);
    const teed = log.tee(entry.capture).child({ source: 'stores' });
    const result: SourceReading = { source: 'stores', success: true, durationSeconds: 0, registers };
    const record = entry.finish({ success: true, durationSeconds: 0 });
    logReadChanges(result, status.record(result, record), target === undefined, teed);
    return record;
  };
  const lines = () => processLog.map((r) => formatLogfmt(r).replace(/^ts=\S+ /, ''));
  return { scrape, lines };
}

describe('logReadChanges', () => {
  it('logs a change of state once, a summary per scrape, and nothing while all are read', () => {
    const f = fleet();
    f.scrape([up('a'), up('b'), up('c')]);
    expect(f.lines()).toEqual([]);
    f.scrape([up('a'), down('b', 'connection refused'), partly('c', 'ofd: request timed out')]);
    f.scrape([up('a'), down('b', 'connection refused'), partly('c', 'ofd: request timed out')]);
    f.scrape([up('a'), up('b'), up('c')]);
    expect(f.lines()).toEqual([
      'level=warn source=stores kkt=b err="connection refused" msg="register unreachable"',
      'level=warn source=stores kkt=c err="ofd: request timed out" msg="register read incomplete"',
      'level=info source=stores msg="1 of 3 registers not read: 1 connection refused; 1 read incomplete: 1 timeout"',
      'level=info source=stores msg="1 of 3 registers not read: 1 connection refused; 1 read incomplete: 1 timeout"',
      'level=info source=stores kkt=b down_for=0s msg="register reachable again"',
      'level=info source=stores kkt=c incomplete_for=0s msg="register read complete again"',
    ]);
  });

  it('at the first read logs the registers not read (a change from unknown), and a till switched off after hours at info', () => {
    const f = fleet();
    f.scrape([up('a'), down('b', 'connection refused'), down('c', 'connection refused', false)]);
    expect(f.lines().slice(0, 2)).toEqual([
      'level=warn source=stores kkt=b err="connection refused" msg="register unreachable"',
      'level=info source=stores kkt=c err="connection refused" msg="register unreachable"',
    ]);
  });

  it('gives a register probed alone its changes but no summary line', () => {
    const f = fleet();
    f.scrape([down('b', 'connection refused')], 'b');
    f.scrape([down('b', 'connection refused')], 'b');
    expect(f.lines()).toEqual(['level=warn source=stores kkt=b err="connection refused" msg="register unreachable"']);
  });

  it(`writes at most ${MAX_CHANGES_LOGGED_PER_READ} changes per read to the process log, the rest counted, and keeps them all in the history`, () => {
    const f = fleet();
    const all = Array.from({ length: 250 }, (_, i) => down(`r${i}`, 'cannot read the register list: HTTP 503'));
    const record = f.scrape(all);
    expect(f.lines()).toHaveLength(MAX_CHANGES_LOGGED_PER_READ + 2);
    expect(f.lines().slice(-2)).toEqual([
      'level=warn source=stores msg="150 more registers changed state: 150 unreachable; the landing page lists them"',
      'level=info source=stores msg="250 of 250 registers not read: 250 register list not read"',
    ]);
    expect(record.logs.filter((r) => r.msg === 'register unreachable')).toHaveLength(250);
  });

  it('names at most 5 reasons in a summary, the most frequent first, and counts the rest as other', () => {
    const f = fleet();
    const errors = ['connection refused', 'connection refused', 'request timed out', 'HTTP 500', 'unexpected HTTP status 404', 'connection reset', 'cannot resolve host "x": ENOTFOUND', 'weird thing'];
    f.scrape(errors.map((e, i) => down(`r${i}`, e)));
    expect(f.lines().at(-1)).toBe('level=info source=stores msg="8 of 8 registers not read: 2 connection refused, 1 connection reset, 1 host not resolved, 1 HTTP 404, 1 HTTP 500, 2 other"');
  });
});

describe('reasonClass', () => {
  it.each([
    ['connection refused', 'connection refused'],
    ['request aborted: scrape deadline reached', 'scrape deadline'],
    ['ofd: not read: the scrape deadline came first', 'scrape deadline'],
    ['request timed out', 'timeout'],
    ['the register is blocked: HTTP 403: Forbidden: касса заблокирована', 'blocked'],
    ['cannot read the register: HTTP 403: Forbidden', 'HTTP 403'],
    ['register not found', 'not found'],
    ['paper: unexpected HTTP status 502', 'HTTP 502'],
    ['malformed register record: serial: expected string', 'malformed answer'],
    [`something entirely new: ${'x'.repeat(100)}`, 'something entirely new'],
    ['y'.repeat(100), `${'y'.repeat(39)}…`],
  ])('%s -> %s', (error, reason) => expect(reasonClass(error)).toBe(reason));
});

describe('Logger.detail', () => {
  it('goes to a tee (the history) at any level, and to the process log only at debug', () => {
    const at = (level: 'debug' | 'info') => {
      const processLog: LogRecord[] = [];
      const captured: LogRecord[] = [];
      const log = new Logger((r) => processLog.push(r), level);
      log.detail().warn('register not read');
      log.tee((r) => captured.push(r)).child({ source: 's' }).detail().warn('register not read');
      return { processLog: processLog.length, captured: captured.length };
    };
    expect(at('info')).toEqual({ processLog: 0, captured: 1 });
    expect(at('debug')).toEqual({ processLog: 2, captured: 1 });
  });
});
