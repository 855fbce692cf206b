// Scenario 6: rendering one /metrics answer for a 5,000-register UKM fleet (the exporter's own
// writer, in this process), with every endpoint's samples as a full read gives them.
import { renderProbeResults } from '../dist/metrics/render.js';

export function benchRender(registers = 5000, repeats = 7) {
  const readings = Array.from({ length: registers }, (_, i) => ({
    kkt: `pos${String(i).padStart(5, '0')}`,
    labels: { store: String(i % 400).padStart(3, '0'), city: i % 2 ? 'msk' : 'spb' },
    up: true,
    info: { url: `http://10.${(i >> 8) & 255}.${i & 255}.3:8080` },
    samples: [
      { metric: 'kkt_paper_present', value: 1 },
      { metric: 'kkt_unsent_docs', value: i % 7 },
      { metric: 'kkt_receipt_open', value: 0 },
      { metric: 'kkt_receipt_last_closed_timestamp_seconds', value: 1795380000 + i },
      { metric: 'kkt_user_role_id', value: i % 13 },
      { metric: 'kkt_vision_connected', value: 1 },
      { metric: 'kkt_scale_weight', value: 0.25 },
    ],
    endpoints: ['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight'].map((endpoint) => ({ endpoint, success: true })),
  }));
  const result = { source: 'stores', success: true, durationSeconds: 6.1, registers: readings };
  const times = [];
  let text = '';
  for (let i = 0; i < repeats; i++) {
    // Fresh reading objects each time: the renderer keeps the lines of a reading it has formatted.
    const fresh = { ...result, registers: readings.map((r) => ({ ...r })) };
    const t0 = performance.now();
    text = renderProbeResults([fresh]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    registers,
    series: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
    bytes: Buffer.byteLength(text),
    median_ms: +times[Math.floor(repeats / 2)].toFixed(1),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(benchRender());
