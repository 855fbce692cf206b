#!/usr/bin/env -S node --expose-gc
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kkt-exporter: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
