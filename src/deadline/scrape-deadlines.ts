import { Deadline } from './deadline.js';

/** One scrape's deadlines: one object per distinct budget (a source's own `timeout` may cap it). */
export class ScrapeDeadlines {
  private readonly start = performance.now();
  private readonly bySeconds = new Map<number, Deadline>();
  private cutFor: string | undefined;

  after(seconds: number): Deadline {
    let deadline = this.bySeconds.get(seconds);
    if (!deadline) {
      this.bySeconds.set(seconds, (deadline = new Deadline(this.start + seconds * 1000)));
      if (this.cutFor !== undefined) deadline.cut(this.cutFor);
    }
    return deadline;
  }

  dispose(): void {
    for (const d of this.bySeconds.values()) d.dispose();
  }

  /** The scrape was abandoned: every deadline of it is now, and any made later too. */
  cut(why: string): void {
    this.cutFor ??= why;
    for (const d of this.bySeconds.values()) d.cut(why);
  }
}
