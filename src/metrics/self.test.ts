import { describe, expect, it } from 'vitest';
import { parseMetrics, valueOf } from '../../test/support/metrics.js';
import type { RequestObserver } from '../http/client.js';
import { SelfMetrics } from './self.js';

const said = async (self: SelfMetrics) => parseMetrics(await self.registry.metrics());

describe("the exporter's own metrics, as the HTTP layer reports to them", () => {
  it('count each vendor request by source, endpoint and outcome, and time it per source and endpoint', async () => {
    const self = new SelfMetrics('test');
    const observer: RequestObserver = self;
    observer.request('stores', 'paper', '200', 0.02);
    observer.request('stores', 'paper', '200', 0.3);
    observer.request('stores', 'paper', 'timeout', 10);
    observer.request('atol-cloud', 'page', '401', 0.004);
    const s = await said(self);
    expect(valueOf(s, 'kkt_exporter_requests_total', { source: 'stores', endpoint: 'paper', code: '200' })).toBe(2);
    expect(valueOf(s, 'kkt_exporter_requests_total', { source: 'stores', endpoint: 'paper', code: 'timeout' })).toBe(1);
    expect(valueOf(s, 'kkt_exporter_requests_total', { source: 'atol-cloud', endpoint: 'page', code: '401' })).toBe(1);
    expect(valueOf(s, 'kkt_exporter_request_duration_seconds_count', { source: 'stores', endpoint: 'paper' })).toBe(3);
    expect(valueOf(s, 'kkt_exporter_request_duration_seconds_sum', { source: 'stores', endpoint: 'paper' })).toBeCloseTo(10.32);
    expect(valueOf(s, 'kkt_exporter_request_duration_seconds_bucket', { source: 'stores', endpoint: 'paper', le: '0.025' })).toBe(1);
    expect(valueOf(s, 'kkt_exporter_request_duration_seconds_bucket', { source: 'stores', endpoint: 'paper', le: '5' })).toBe(2);
    expect(valueOf(s, 'kkt_exporter_request_duration_seconds_bucket', { source: 'stores', endpoint: 'paper', le: '+Inf' })).toBe(3);
    expect(valueOf(s, 'kkt_exporter_request_duration_seconds_count', { source: 'atol-cloud', endpoint: 'page' })).toBe(1);
  });

  it('add up the seconds spent waiting at the rate gate per source, and count logins by result', async () => {
    const self = new SelfMetrics('test');
    const observer: RequestObserver = self;
    observer.rateLimitWait('stores', 0.75);
    observer.rateLimitWait('stores', 1.5);
    observer.auth('atol-cloud', 'success');
    observer.auth('atol-cloud', 'wrong_credentials');
    observer.auth('atol-cloud', 'wrong_credentials');
    const s = await said(self);
    expect(valueOf(s, 'kkt_exporter_rate_limit_wait_seconds_total', { source: 'stores' })).toBe(2.25);
    expect(valueOf(s, 'kkt_exporter_auth_requests_total', { source: 'atol-cloud', result: 'success' })).toBe(1);
    expect(valueOf(s, 'kkt_exporter_auth_requests_total', { source: 'atol-cloud', result: 'wrong_credentials' })).toBe(2);
  });
});
