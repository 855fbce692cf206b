import { describe, expect, it, vi } from 'vitest';
import { Deadline } from '../deadline/deadline.js';
import { SharedRead, SharedReads } from './shared-read.js';

/** A read of some of the letters a caller may ask for, ended by the test. */
class LetterRead extends SharedRead<string> {
  constructor(deadline: Deadline, letter: string, private readonly letters = letter) {
    super(deadline, letter);
  }

  override serves(letter: string): boolean {
    return this.letters.includes(letter);
  }

  get signal(): AbortSignal {
    return this.shared.signal;
  }

  /** What the caller the read goes on for brought. */
  get latest(): string {
    return this.shared.value;
  }

  finish(reusable = true): void {
    this.end(reusable);
  }
}

const reads = () => new SharedReads<string, string, LetterRead>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SharedReads', () => {
  it('a caller joins the running read: it goes on until the latest deadline among them, for the caller with it', async () => {
    const shared = reads();
    const first = shared.start('k', new LetterRead(Deadline.in(30), 'a', 'ab'));
    expect(shared.share('k', Deadline.in(400), 'b', 0)).toBe(first);
    expect(shared.share('k', Deadline.in(60), 'a', 0)).toBe(first);
    expect(first.latest).toBe('b');
    await sleep(120);
    expect(first.signal.aborted).toBe(false);
    await sleep(400);
    expect(first.signal.aborted).toBe(true);
  });

  it('a running read that does not serve the caller is neither joined nor extended: the caller starts its own', async () => {
    const shared = reads();
    const first = shared.start('k', new LetterRead(Deadline.in(30), 'a'));
    expect(shared.share('k', Deadline.in(3000), 'b', 60_000)).toBeUndefined();
    expect(shared.share('other', Deadline.in(3000), 'a', 60_000)).toBeUndefined();
    await sleep(50);
    expect(first.signal.aborted).toBe(true);
  });

  it('a read every caller has stopped waiting for is not joined, though it has not ended yet', async () => {
    const shared = reads();
    const deadline = Deadline.in(3000);
    const first = shared.start('k', new LetterRead(deadline, 'a'));
    deadline.cut('client went away');
    expect(first.running).toBe(false);
    expect(shared.share('k', Deadline.in(3000), 'a', 60_000)).toBeUndefined();
  });

  it('an ended read is given again for the freshness window the caller asks, unless it was cut short', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const shared = reads();
      const read = shared.start('k', new LetterRead(Deadline.in(3000), 'a', 'ab'));
      read.finish();
      vi.advanceTimersByTime(100);
      expect(shared.share('k', Deadline.in(3000), 'b', 101)).toBe(read);
      expect(shared.share('k', Deadline.in(3000), 'b', 100)).toBeUndefined();
      expect(shared.share('k', Deadline.in(3000), 'c', 60_000)).toBeUndefined();
      expect(shared.share('k', Deadline.in(3000), 'a', 0)).toBeUndefined();

      const cut = shared.start('k', new LetterRead(Deadline.in(3000), 'a'));
      cut.finish(false);
      expect(shared.share('k', Deadline.in(3000), 'a', 60_000)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads that ended idleMs ago are swept out as new ones start; running ones stay', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const shared = new SharedReads<string, string, LetterRead>(3, 1000);
      const running = shared.start('running', new LetterRead(Deadline.in(60_000), 'a'));
      shared.start('old', new LetterRead(Deadline.in(60_000), 'a')).finish();
      vi.advanceTimersByTime(1001);
      shared.start('recent', new LetterRead(Deadline.in(60_000), 'a')).finish();
      expect(shared.size).toBe(2);
      expect(shared.get('old')).toBeUndefined();
      expect(shared.get('running')).toBe(running);
      shared.delete('recent');
      expect(shared.size).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
