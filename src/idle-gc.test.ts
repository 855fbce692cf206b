import { describe, expect, it } from 'vitest';
import { IdleGc } from './idle-gc.js';

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A heap and an event loop under the test's control. */
function fixture(growthBytes = 64 * MB) {
  let heap = 100 * MB;
  let busy = 1;
  const collected: number[] = [];
  const idle = new IdleGc({ growthBytes, heapUsed: () => heap, gc: () => collected.push((heap = 80 * MB)), busyShare: () => busy });
  return { idle, collected, grow: (mb: number) => (heap += mb * MB), quiet: () => (busy = 0.02) };
}

describe('IdleGc', () => {
  it('collects after a scrape that grew the heap, once nothing is running', async () => {
    const { idle, collected, grow } = fixture();
    await idle.around(async () => grow(150));
    expect(collected).toHaveLength(0); // not while the answer is still being written
    await sleep(150);
    expect(collected).toHaveLength(1);
  });

  it('never collects while a scrape keeps the event loop busy, and waits for the last one', async () => {
    const { idle, collected, grow } = fixture();
    let finishSecond!: () => void;
    const second = idle.around(() => new Promise<void>((r) => (finishSecond = r)));
    await idle.around(async () => grow(150));
    await sleep(150);
    expect(collected).toHaveLength(0);
    finishSecond();
    await second;
    await sleep(150);
    expect(collected).toHaveLength(1);
  });

  it('collects during a long scrape when the event loop is quiet (a UKM scrape between its bursts)', async () => {
    const { idle, collected, grow, quiet } = fixture();
    await idle.around(async () => {
      grow(150);
      await sleep(120);
      expect(collected).toHaveLength(0); // busy
      quiet();
      await sleep(120);
      expect(collected).toHaveLength(1);
      grow(10);
      await sleep(120);
    });
    await sleep(150);
    expect(collected).toHaveLength(1); // 10 MB since the last collection is not worth one
  });

  it('leaves a heap that has not grown much alone (small fleets, frequent probes)', async () => {
    const { idle, collected, grow } = fixture();
    for (let i = 0; i < 5; i++) await idle.around(async () => grow(10));
    await sleep(150);
    expect(collected).toHaveLength(0);
  });

  it('uses the gc Node exposes under --expose-gc, once the real heap grew past the threshold in a quiet moment', async () => {
    const calls: number[] = [];
    const global = globalThis as { gc?: () => void };
    global.gc = () => calls.push(performance.now());
    try {
      const idle = new IdleGc({ growthBytes: 8 * MB });
      let kept: unknown[] = [];
      await idle.around(async () => {
        kept = Array.from({ length: 500_000 }, (_, i) => ({ i, s: `v${i}` })); // well over 8 MB
        await sleep(150); // an idle event loop
      });
      expect(kept).toHaveLength(500_000);
      expect(calls.length).toBeGreaterThan(0);
    } finally {
      delete global.gc;
    }
  });

  it('without --expose-gc (as under this test runner) runs the work and collects nothing', async () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const idle = new IdleGc({ growthBytes: 1 });
    expect(await idle.around(async () => 'answer')).toBe('answer');
  });
});
