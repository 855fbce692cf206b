// Regenerates the README's metric table from the metric catalog and the vendors (via the build in dist/).
import { readFileSync, writeFileSync } from 'node:fs';
import { withMetricsTable } from '../dist/metrics/docs.js';
import { VENDORS } from '../dist/sources/vendors.js';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, withMetricsTable(readFileSync(file, 'utf8'), VENDORS));
