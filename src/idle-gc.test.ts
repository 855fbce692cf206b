import { describe, expect, it } from 'vitest';
import { IdleGc } from './idle-gc.js';

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fixture(growthBytes = 64 * MB) {
  let heap = 100 * MB;
  const collected: number[] = [];
  const idle = new IdleGc({ growthBytes, heapUsed: () => heap, gc: () => collected.push((heap = 80 * MB)) });
  return { idle, collected, grow: (mb: number) => (heap += mb * MB) };
}

describe('IdleGc', () => {
  it('collects after a scrape that grew the heap, once nothing is running', async () => {
    const { idle, collected, grow } = fixture();
    await idle.around(async () => grow(150));
    expect(collected).toHaveLength(0); // not while the answer is still being written
    await sleep(150);
    expect(collected).toHaveLength(1);
  });

  it('never collects while another scrape is running, and waits for the last one', async () => {
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

  it('leaves a heap that has not grown much alone (small fleets, frequent probes)', async () => {
    const { idle, collected, grow } = fixture();
    for (let i = 0; i < 5; i++) await idle.around(async () => grow(10));
    await sleep(150);
    expect(collected).toHaveLength(0);
  });

  it('uses V8\'s own full collection when none is given', async () => {
    const idle = new IdleGc({ growthBytes: 0 });
    await idle.around(async () => new Array(1e5).fill({}));
    await sleep(150);
    expect(idle.collections).toBe(1);
  });
});
