import type { RegisterMetric } from '../readings/catalog.js';
import type { RegisterReading } from '../readings/reading.js';

/*
 * Time to block from one reading, as the recording rules kkt:block_timestamp_seconds compute it
 * (scripts/gen-alerts.mjs) for the reasons one reading allows. The Kazakh 72 h offline clock and the
 * FN-full prediction need the register's history: only Prometheus has them.
 */

/** The legal clocks (54-FZ): the FN stops signing 30 days after the oldest document the OFD has not confirmed; a shift expires at 24 h. */
const OFD_BLOCK_SECONDS = 30 * 86_400;
const SHIFT_BLOCK_SECONDS = 24 * 3600;

/** The `reason` labels of kkt:block_timestamp_seconds a reading gives, in words for the page. */
export const BLOCK_REASON_WORDS = {
  ofd_30_days: '30 days unsent to the OFD',
  shift_24h: 'shift 24 h',
  fn_expiry: 'FN expiry',
} as const;
export type BlockReason = keyof typeof BLOCK_REASON_WORDS;

export interface BlockTime {
  /** Unix seconds. */
  at: number;
  reason: BlockReason;
}

const plus = (t: number | undefined, seconds: number): number | undefined => (t === undefined ? undefined : t + seconds);

/** The earliest moment this reading says the register will be blocked, and why; undefined when it says none. */
export function blockTimeOf(reading: RegisterReading): BlockTime | undefined {
  if (!reading.up) return undefined;
  const v = (m: RegisterMetric): number | undefined => reading.samples.find((s) => s.metric === m && !s.labels)?.value;
  const candidates: Array<[BlockReason, number | undefined]> = [
    ['ofd_30_days', plus(v('kkt_unsent_oldest_timestamp_seconds'), OFD_BLOCK_SECONDS)],
    ['shift_24h', v('kkt_shift_open') === 1 ? plus(v('kkt_shift_opened_timestamp_seconds'), SHIFT_BLOCK_SECONDS) : undefined],
    ['fn_expiry', v('kkt_fn_expiry_timestamp_seconds')],
  ];
  let earliest: BlockTime | undefined;
  for (const [reason, at] of candidates) if (at !== undefined && (earliest === undefined || at < earliest.at)) earliest = { at, reason };
  return earliest;
}

/** 3 d 4 h, 5 h 20 min, 40 min: the two largest units, rounded down. */
export function spanWords(seconds: number): string {
  const minutes = Math.floor(Math.abs(seconds) / 60);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return m > 0 ? `${m} min` : 'under 1 min';
}

/** "blocks in 3 d 4 h: FN expiry", or "block due 2 h ago: ..." once the moment has passed. */
export function blockTimeText(block: BlockTime, nowSeconds: number): string {
  const left = block.at - nowSeconds;
  const when = left >= 0 ? `blocks in ${spanWords(left)}` : `block due ${spanWords(left)} ago`;
  return `${when}: ${BLOCK_REASON_WORDS[block.reason]}`;
}
