import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../../test/support/metrics.js';
import type { RegisterReading } from '../readings/reading.js';
import { renderProbeResults } from './render.js';

describe('renderProbeResults', () => {
  const text = renderProbeResults([
    {
      source: 'stores',
      success: true,
      durationSeconds: 1.5,
      registers: [
        {
          kkt: 'pos "1"',
          labels: { store: 'a\\b' },
          up: true,
          info: { url: 'http://x\ny' },
          samples: [
            { metric: 'kkt_unsent_docs', value: 3 },
            { metric: 'kkt_scale_weight', value: Number.NaN },
            { metric: 'kkt_fn_usage_percent', value: Number.POSITIVE_INFINITY },
          ],
          endpoints: [{ endpoint: 'ofd', success: true }],
        },
      ],
    },
  ]);

  it('escapes label values as the text format requires', () => {
    expect(text).toContain('kkt_up{source="stores",kkt="pos \\"1\\"",store="a\\\\b"} 1');
    expect(text).toContain('url="http://x\\ny"');
    expect(parseMetrics(text).find((s) => s.name === 'kkt_info')?.labels).toEqual({ source: 'stores', kkt: 'pos "1"', store: 'a\\b', url: 'http://x\ny' });
  });

  it('never writes NaN or Infinity, and leaves a family with no series out', () => {
    expect(text).not.toMatch(/NaN|Inf/);
    expect(text).not.toContain('kkt_scale_weight');
    expect(text).not.toContain('kkt_fn_usage_percent');
  });

  it('writes HELP and TYPE once per family, register metrics before probe metrics', () => {
    expect(text.match(/# TYPE kkt_up gauge/g)).toHaveLength(1);
    expect(text.indexOf('kkt_unsent_docs{')).toBeLessThan(text.indexOf('kkt_probe_success{'));
    expect(text).toContain('kkt_probe_endpoint_success{source="stores",kkt="pos \\"1\\"",store="a\\\\b",endpoint="ofd"} 1');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('rendering a scrape', () => {
  const reading = (kkt: string, unsent: number): RegisterReading => ({
    kkt,
    labels: {},
    up: true,
    info: {},
    samples: [{ metric: 'kkt_unsent_docs', value: unsent }],
    endpoints: [{ endpoint: 'ofd', success: true }],
  });

  it('writes the registers in the order of the results, each family once', () => {
    const registers = [reading('a', 1), reading('b', 2), reading('c', 3)];
    const text = renderProbeResults([{ source: 'stores', success: true, durationSeconds: 6.2, registers }]);
    const unsent = text.split('\n').filter((l) => l.startsWith('kkt_unsent_docs{'));
    expect(unsent).toEqual(['kkt_unsent_docs{source="stores",kkt="a"} 1', 'kkt_unsent_docs{source="stores",kkt="b"} 2', 'kkt_unsent_docs{source="stores",kkt="c"} 3']);
    expect(text.match(/# HELP kkt_unsent_docs /g)).toHaveLength(1);
  });

  it('gives scrapes that end on the same readings (an HA pair) the same register lines and each its own probe metrics', () => {
    const registers = [reading('a', 1), reading('b', 2)];
    const first = renderProbeResults([{ source: 'stores', success: true, durationSeconds: 6.4, registers }]);
    const second = renderProbeResults([{ source: 'stores', success: false, durationSeconds: 4.4, registers: [...registers] }]);
    const registerLines = (text: string) => text.split('\n').filter((l) => l.startsWith('kkt_') && !/^kkt_probe_(success|duration_seconds)\{/.test(l));
    expect(registerLines(second)).toEqual(registerLines(first));
    expect(first).toContain('kkt_probe_duration_seconds{source="stores"} 6.4');
    expect(first).toContain('kkt_probe_success{source="stores"} 1');
    expect(second).toContain('kkt_probe_duration_seconds{source="stores"} 4.4');
    expect(second).toContain('kkt_probe_success{source="stores"} 0');
  });

  it("renders a register's new reading, and the same reading under another source, afresh", () => {
    const a = reading('a', 1);
    renderProbeResults([{ source: 'stores', success: true, durationSeconds: 6, registers: [a] }]);
    const next = renderProbeResults([{ source: 'stores', success: true, durationSeconds: 6, registers: [reading('a', 5)] }]);
    expect(next).toContain('kkt_unsent_docs{source="stores",kkt="a"} 5');
    expect(next).not.toContain('kkt_unsent_docs{source="stores",kkt="a"} 1');
    const other = renderProbeResults([{ source: 'depot', success: true, durationSeconds: 6, registers: [a] }]);
    expect(other).toContain('kkt_unsent_docs{source="depot",kkt="a"} 1');
    expect(other).not.toContain('source="stores"');
  });
});
