import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';

describe('UKM endpoints: the list chooses which, the order is always the priority order', () => {
  it('reads paper and ofd first even when the config lists them in the document order', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'kkt-schema-test-')), 'kkt-exporter.yml');
    await writeFile(file, 'sources:\n  - name: s\n    type: ukm\n    endpoints: [last_receipt_time, downtime, user_role_id, ofd, paper, vision, weight, paper]\n');
    const { config } = await loadConfig(file, {});
    const source = config.sources[0];
    expect(source?.type === 'ukm' && source.endpoints).toEqual(['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight']);
  });
});
