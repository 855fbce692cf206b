// Regenerates the README's metric table from src/readings/catalog.ts (via the build in dist/).
import { readFileSync, writeFileSync } from 'node:fs';
import { withMetricsTable } from '../dist/metrics/docs.js';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, withMetricsTable(readFileSync(file, 'utf8')));
