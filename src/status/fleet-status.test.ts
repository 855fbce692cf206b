import { describe, expect, it } from 'vitest';
import type { RegisterReading } from '../readings/reading.js';
import { MAX_AD_HOC_TARGETS } from '../sources/source.js';
import { FleetStatus } from './fleet-status.js';
import { ReadHistory } from './history.js';

const reading = (kkt: string): RegisterReading => ({ kkt, labels: {}, up: false, info: {}, samples: [], endpoints: [] });

/** One `/probe` of `kkt` alone, as the exporter files it. */
function probeAlone(status: FleetStatus, history: ReadHistory, kkt: string, adHoc: boolean): void {
  const record = history.begin('stores', 'probe', kkt, adHoc).finish({ success: false, durationSeconds: 0 });
  status.record({ source: 'stores', success: false, durationSeconds: 0, registers: [reading(kkt)] }, record);
}

describe('FleetStatus', () => {
  it(`keeps the last ${MAX_AD_HOC_TARGETS} targets not in the config, however many are probed, and every configured register probed alone`, () => {
    const status = new FleetStatus();
    const history = new ReadHistory();
    for (let i = 0; i < 1500; i++) probeAlone(status, history, `pos${i}`, false);
    for (let i = 0; i < 3 * MAX_AD_HOC_TARGETS; i++) probeAlone(status, history, `127.0.${i >> 8}.${i & 255}:8080`, true);
    expect(status.adHocCount('stores')).toBe(MAX_AD_HOC_TARGETS);
    expect(status.register('stores', '127.0.11.183:8080')?.reading.kkt).toBe('127.0.11.183:8080'); // the last one
    expect(status.register('stores', '127.0.0.0:8080')).toBeUndefined(); // the first one, dropped
    expect(status.register('stores', 'pos0')?.reading.kkt).toBe('pos0');
    expect(status.register('stores', 'pos1499')?.reading.kkt).toBe('pos1499');
  });

  it('flags an FN swapped without re-registration between two whole reads, and forgets a register the vendor no longer lists', () => {
    const status = new FleetStatus();
    const history = new ReadHistory();
    const atol = (serial: string): RegisterReading => ({ kkt: 'k1', labels: {}, up: true, info: { fn_serial: serial, rnm: 'R1' }, samples: [], endpoints: [] });
    const read = (registers: RegisterReading[]) =>
      status.record({ source: 'atol', success: true, durationSeconds: 0, registers }, history.begin('atol', 'metrics').finish({ success: true, durationSeconds: 0 }));
    read([atol('OLD')]);
    read([atol('NEW')]);
    expect(status.register('atol', 'k1')?.fn?.swap).toEqual({ from: 'OLD', to: 'NEW' });
    expect([...status.all()].map((r) => r.kkt)).toEqual(['k1']);
    read([]);
    expect([...status.all()]).toEqual([]);
  });
});
