import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../log.js';
import { MAX_LOGS_PER_PROBE, ReadHistory } from './history.js';

const line = (msg: string): LogRecord => ({ ts: '2026-11-29T00:00:00.000Z', level: 'warn', msg, fields: {} });

function probe(h: ReadHistory, source: string, success: boolean, target?: string, logs = 1) {
  const entry = h.begin(source, target ? 'probe' : 'metrics', target);
  for (let i = 0; i < logs; i++) entry.capture(line(`line ${i}`));
  return entry.finish({ success, durationSeconds: 0.1 });
}

describe('ReadHistory', () => {
  it('keeps the last `limit` probes, newest first, and the last `limit` failures beyond them', () => {
    const h = new ReadHistory(3);
    const failure = probe(h, 'stores', false, 'pos1');
    for (let i = 0; i < 10; i++) probe(h, 'stores', true, `pos${i}`);
    const ids = h.list().map((r) => r.id);
    expect(ids).toEqual([10, 9, 8, failure.id]);
    expect(h.get(failure.id)?.target).toBe('pos1');
    expect(h.get(1)).toBeUndefined();
  });

  it('bounds the log lines kept per probe and counts the rest', () => {
    const h = new ReadHistory();
    const r = probe(h, 'stores', false, undefined, MAX_LOGS_PER_PROBE + 7);
    expect(r.logs).toHaveLength(MAX_LOGS_PER_PROBE);
    expect(r.logsOmitted).toBe(7);
  });
});
