import { describe, expect, it } from 'vitest';
import { loadYaml } from '../../../test/support/config.js';

describe('UKM endpoints: the list chooses which, the order is always the priority order', () => {
  it('reads paper and ofd first even when the config lists them in the document order', async () => {
    const { config } = await loadYaml('sources:\n  - name: s\n    type: ukm\n    endpoints: [last_receipt_time, downtime, user_role_id, ofd, paper, vision, weight, paper]\n');
    const source = config.sources[0];
    expect(source?.type === 'ukm' && source.endpoints).toEqual(['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight']);
  });
});
