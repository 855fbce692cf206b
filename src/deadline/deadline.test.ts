import { describe, expect, it } from 'vitest';
import { Deadline, MAX_PROBE_SECONDS, probeTimeoutSeconds, SharedDeadline } from './deadline.js';

describe('probeTimeoutSeconds', () => {
  // blackbox_exporter's TestTimeoutIsSetCorrectly, with its built-in 120 s default passed in.
  const table: Array<[sourceTimeout: number, header: string, offset: number, expected: number]> = [
    [0, '15', 0.5, 14.5],
    [0, '15', 0, 15],
    [20, '15', 0.5, 14.5],
    [20, '15', 0, 15],
    [5, '15', 0, 5],
    [5, '15', 0.5, 5],
    [10, '', 0.5, 10],
    [10, '10', 0.5, 9.5],
    [9.5, '', 0.5, 9.5],
    [9.5, '', 1, 9.5],
    [0, '', 0.5, 119.5],
    [0, '', 0, 120],
  ];
  it.each(table)('source timeout %ss, header "%s", offset %s -> %ss', (sourceTimeout, header, offset, expected) => {
    expect(probeTimeoutSeconds(header, sourceTimeout, offset, 120)).toBe(expected);
  });

  it('uses global.scrape_timeout when Prometheus sends no header', () => {
    expect(probeTimeoutSeconds(undefined, 0, 0.5, 10)).toBe(9.5);
  });

  it('treats an unreadable header as absent', () => {
    expect(probeTimeoutSeconds('soon', 0, 0.5, 10)).toBe(9.5);
    expect(probeTimeoutSeconds('-3', 0, 0.5, 10)).toBe(9.5);
  });

  it('falls back to the source timeout when the offset eats the whole header', () => {
    expect(probeTimeoutSeconds('0.2', 3, 0.5, 10)).toBe(3);
  });

  it.each([
    ['300.5', 300],
    ['301', 300],
    ['2147483.647', 300],
    ['2147483.648', 300],
    ['4294967.296', 300],
    ['1e15', 300],
    ['1e309', 9.5], // Infinity: unreadable
  ])('clamps a header of %s s to the %s s staleness window (offset 0.5)', (header, expected) => {
    expect(probeTimeoutSeconds(header, 0, 0.5, 10)).toBe(expected);
  });

  it('clamps a source timeout and a default as large as a year too', () => {
    expect(probeTimeoutSeconds(undefined, 365 * 86_400, 0.5, 365 * 86_400)).toBe(MAX_PROBE_SECONDS);
    expect(probeTimeoutSeconds('400', 365 * 86_400, 0, 10)).toBe(MAX_PROBE_SECONDS);
  });
});

describe('a cut deadline', () => {
  it('comes at once, with the reason it was cut for', async () => {
    const d = Deadline.in(60_000);
    d.cut('the scrape was abandoned');
    await d.reached;
    expect(d.signal.reason).toEqual(new Error('the scrape was abandoned'));
    expect(d.over).toBe(true);
  });
});

describe('SharedDeadline', () => {
  it('goes on for the latest scrape still waiting when the one it followed is cut, and stops when none is', () => {
    const first = Deadline.in(60_000);
    const shorter = Deadline.in(30_000);
    const latest = Deadline.in(90_000);
    const shared = new SharedDeadline(first, 'first');
    shared.extendTo(shorter, 'shorter');
    shared.extendTo(latest, 'latest');
    expect(shared.value).toBe('latest');
    latest.cut('client gone');
    expect(shared.signal.aborted).toBe(false);
    expect(shared.value).toBe('first');
    first.cut('client gone');
    expect(shared.value).toBe('shorter');
    expect(shared.signal.aborted).toBe(false);
    shorter.cut('client gone');
    expect(shared.signal.aborted).toBe(true);
    for (const d of [first, shorter, latest]) d.dispose();
  });

  it('ignores a scrape that joins already cut', () => {
    const first = Deadline.in(60_000);
    const gone = Deadline.in(90_000);
    gone.cut('client gone');
    const shared = new SharedDeadline(first, 1);
    shared.extendTo(gone, 2);
    expect(shared.deadline).toBe(first);
    expect([shared.value, shared.signal.aborted]).toEqual([1, false]);
    first.dispose();
  });
});
