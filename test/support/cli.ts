import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The built command, as users run it (`npm run build` comes first in the test command). */
export const CLI = join(import.meta.dirname, '../../dist/cli.js');

export interface RunningCli {
  child: ChildProcess;
  /** The exporter's own URL, from its `listening` log line. */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it has exited. */
  exited: Promise<number | string>;
}

/**
 * Starts `node [nodeArgs] dist/cli.js [args]` on a free loopback port and resolves once it logs that
 * it listens. The caller kills it (SIGKILL in afterEach) if the test does not end it.
 */
export function startCli(args: string[], nodeArgs: string[] = []): Promise<RunningCli> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, '--web.listen-address=127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /url=(http:\/\/[^\s"]+)/.exec(output)?.[1];
      if (url) resolve({ child, url, output: () => output, exited });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}
