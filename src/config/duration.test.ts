import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [499, '0s'],
    [45_000, '45s'],
    [3_725_000, '1h2m5s'],
    [(3 * 24 + 4) * 3600_000, '3d4h'],
  ])('%d ms -> %s, which parseDuration reads back to the second', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(Math.round(ms / 1000) * 1000);
  });
});
