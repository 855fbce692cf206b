import { describe, expect, it } from 'vitest';
import { readingOf, unreadReading } from '../readings/reading.js';
import { blockTimeOf, blockTimeText, spanWords } from './block-time.js';

const NOW = 1_800_000_000;
const DAY = 86_400;
const HOUR = 3600;
const reading = (values: Parameters<typeof readingOf>[3]) => readingOf('r1', 'list', {}, values);

describe('time to block from one reading (the reasons kkt:block_timestamp_seconds has without history)', () => {
  it('the oldest unsent document + 30 days', () => {
    expect(blockTimeOf(reading({ kkt_unsent_docs: 4, kkt_unsent_oldest_timestamp_seconds: NOW - 26 * DAY }))).toEqual({ at: NOW + 4 * DAY, reason: 'ofd_30_days' });
  });

  it('a shift opened + 24 h, only while it is open', () => {
    expect(blockTimeOf(reading({ kkt_shift_open: 1, kkt_shift_opened_timestamp_seconds: NOW - 20 * HOUR }))).toEqual({ at: NOW + 4 * HOUR, reason: 'shift_24h' });
    expect(blockTimeOf(reading({ kkt_shift_open: 0, kkt_shift_opened_timestamp_seconds: NOW - 20 * HOUR }))).toBeUndefined();
    // Open but with no opening time (ATOL, BusinessKassa): the page cannot tell.
    expect(blockTimeOf(reading({ kkt_shift_open: 1 }))).toBeUndefined();
  });

  it('the FN expiry date', () => {
    expect(blockTimeOf(reading({ kkt_fn_expiry_timestamp_seconds: NOW + 3 * DAY + 4 * HOUR }))).toEqual({ at: NOW + 3 * DAY + 4 * HOUR, reason: 'fn_expiry' });
  });

  it('the earliest of them wins', () => {
    const r = reading({
      kkt_fn_expiry_timestamp_seconds: NOW + 200 * DAY,
      kkt_unsent_oldest_timestamp_seconds: NOW - 29 * DAY,
      kkt_shift_open: 1,
      kkt_shift_opened_timestamp_seconds: NOW - 2 * HOUR,
    });
    expect(blockTimeOf(r)).toEqual({ at: NOW + 22 * HOUR, reason: 'shift_24h' });
  });

  it('none for a healthy register without dates, nor for one not read; FN fill alone needs history', () => {
    expect(blockTimeOf(reading({ kkt_paper_present: 1, kkt_unsent_docs: 0, kkt_fn_usage_percent: 97 }))).toBeUndefined();
    expect(blockTimeOf(unreadReading('r1', 'list', 'timeout'))).toBeUndefined();
  });

  it('says it in words, and once the moment has passed', () => {
    expect(blockTimeText({ at: NOW + 3 * DAY + 4 * HOUR + 59, reason: 'fn_expiry' }, NOW)).toBe('blocks in 3 d 4 h: FN expiry');
    expect(blockTimeText({ at: NOW + 5 * HOUR + 20 * 60, reason: 'shift_24h' }, NOW)).toBe('blocks in 5 h 20 min: shift 24 h');
    expect(blockTimeText({ at: NOW - 2 * DAY, reason: 'ofd_30_days' }, NOW)).toBe('block due 2 d ago: 30 days unsent to the OFD');
    expect(spanWords(40 * 60)).toBe('40 min');
    expect(spanWords(20)).toBe('under 1 min');
    expect(spanWords(HOUR)).toBe('1 h');
  });
});
