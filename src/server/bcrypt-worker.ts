import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The worker runs from a string (eval) rather than from a file next to this one, so that it starts the
// same from dist/ and from the TypeScript sources under vitest; bcryptjs is loaded by absolute path.
const BCRYPTJS = createRequire(import.meta.url).resolve('bcryptjs');
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(BCRYPTJS)});
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch {}
  parentPort.postMessage({ id, ok });
});
`;

interface Pending {
  worker: Worker;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

/**
 * One worker thread that runs bcrypt compares in turn, off the event loop. It starts on the first
 * compare and is unref'd, so it never keeps the process alive. If it dies, the compares it held are
 * rejected and the next compare starts a new one.
 */
export class BcryptWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  compare(password: string, hash: string): Promise<boolean> {
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, password, hash });
    });
  }

  /** Stops the thread; compares in progress are rejected. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(SOURCE, { eval: true });
    worker.unref();
    worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      this.pending.get(id)?.resolve(ok);
      this.pending.delete(id);
    });
    // 'exit' always follows 'error'; without a listener an error would be thrown in the main thread.
    worker.on('error', () => {});
    worker.on('exit', () => this.exited(worker));
    this.worker = worker;
    return worker;
  }

  private exited(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new Error('bcrypt worker exited'));
    }
  }
}
