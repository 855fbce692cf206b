import { closeSync, openSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../../test/support/metrics.js';
import { SelfMetrics } from './self.js';

async function openFds(self: SelfMetrics): Promise<number | undefined> {
  return parseMetrics(await self.registry.metrics()).find((s) => s.name === 'process_open_fds')?.value;
}

describe.runIf(process.platform === 'linux')('process_open_fds', () => {
  it('counts the open file descriptors, and follows them as they open and close', async () => {
    const self = new SelfMetrics('test');
    const before = await openFds(self);
    expect(before).toBe(readdirSync('/proc/self/fd').length - 1);
    const fds = Array.from({ length: 40 }, () => openSync('/dev/null', 'r'));
    expect(await openFds(self)).toBe((before as number) + 40);
    for (const fd of fds) closeSync(fd);
    expect(await openFds(self)).toBe(before);
  });
});
