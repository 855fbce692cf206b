import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SELF_METRICS } from '../readings/catalog.js';
import { RequestCounter, RequestHistogram } from './request-metrics.js';

const BUCKETS = [0.005, 0.01, 0.1, 1];
const help = (name: keyof typeof SELF_METRICS) => SELF_METRICS[name].help;

describe('RequestCounter and RequestHistogram', () => {
  it('render exactly what prom-client renders for the same observations', async () => {
    const ours = new Registry();
    const counter = new RequestCounter('kkt_exporter_requests_total', ours);
    const histogram = new RequestHistogram('kkt_exporter_request_duration_seconds', ours, BUCKETS);
    const reference = new Registry();
    const refCounter = new Counter({ name: 'kkt_exporter_requests_total', help: help('kkt_exporter_requests_total'), labelNames: ['source', 'endpoint', 'code'], registers: [reference] });
    const refHistogram = new Histogram({
      name: 'kkt_exporter_request_duration_seconds',
      help: help('kkt_exporter_request_duration_seconds'),
      labelNames: ['source', 'endpoint'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const requests: [string, string, string, number][] = [
      ['stores', 'paper', '200', 0.004],
      ['stores', 'paper', '204', 0.02],
      ['stores', 'paper', '200', 0.005],
      ['stores', 'ofd', 'timeout', 3.2],
      ['atol', 'page', '200', 0.4],
    ];
    for (const [source, endpoint, code, seconds] of requests) {
      counter.inc(1, source, endpoint, code);
      histogram.observe(seconds, source, endpoint);
      refCounter.inc({ source, endpoint, code });
      refHistogram.observe({ source, endpoint }, seconds);
    }
    expect(await ours.metrics()).toBe(await reference.metrics());
    expect(await ours.metrics()).toContain('kkt_exporter_request_duration_seconds_bucket{le="0.005",source="stores",endpoint="paper"} 2');
  });
});
