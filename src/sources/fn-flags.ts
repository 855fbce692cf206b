import { FN_WARNING_FLAGS } from '../readings/catalog.js';
import type { Sample } from '../readings/reading.js';

/** One kkt_fn_warning_flag sample per flag of the FN warning byte; none when the flags were not read. */
export function fnFlagSamples(flags: number | undefined): Sample[] {
  if (flags === undefined || !Number.isInteger(flags)) return [];
  return Object.entries(FN_WARNING_FLAGS).map(([flag, bit]) => ({ metric: 'kkt_fn_warning_flag', value: flags & bit ? 1 : 0, labels: { flag } }));
}
