import { DateTime } from 'luxon';
import { z } from 'zod';

/*
 * `trading_hours` of a source or of a register configured one by one: weekday keys (`mon`, `mon-fri`, `fri-mon`,
 * `mon,wed,fri`) to `"HH:MM-HH:MM"` or a list of them, on the register's own wall clock. Parsed
 * once at config load into the stretches of a week; a scrape only asks whether a moment is inside.
 */

/** In ISO order, as luxon numbers them: weekday 1 is Monday. */
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;

/** As written in the config file. */
export type WrittenHours = Record<string, string | string[]>;

/**
 * Minutes from Monday 00:00 on the local clock, `end` exclusive. A Sunday range past midnight runs
 * past the week's end (up to 8 days), and is matched against the next week's Monday.
 */
interface Stretch {
  start: number;
  end: number;
}

/** A weekly schedule: when the registers it belongs to are expected to trade. */
export class TradingHours {
  constructor(private readonly stretches: readonly Stretch[], private readonly written: WrittenHours) {}

  /** Whether `at`, on the wall clock of `zone`, is inside these hours. */
  includes(at: Date, zone: string): boolean {
    const local = DateTime.fromJSDate(at, { zone });
    const minute = (local.weekday - 1) * DAY_MINUTES + local.hour * 60 + local.minute + local.second / 60;
    return this.stretches.some((s) => (minute >= s.start && minute < s.end) || (minute + WEEK_MINUTES >= s.start && minute + WEEK_MINUTES < s.end));
  }

  /** The hours as written: what the debug output of a source's config shows. */
  toJSON(): WrittenHours {
    return this.written;
  }
}

/** Inside trading hours at `at` in `zone`; always, when no hours are set. */
export function isTrading(hours: TradingHours | undefined, zone: string, at: Date): boolean {
  return hours === undefined || hours.includes(at, zone);
}

const DAYS_HELP = 'use mon..sun, a range such as mon-fri or fri-mon, or a list such as mon,wed,fri';
const RANGE_HELP = 'use "HH:MM-HH:MM" (00:00-24:00 is the whole day; an end before the start runs past midnight)';

/** The weekday numbers (0 = Monday) a key names, or undefined when it is not a weekday key. */
function parseDays(key: string): number[] | undefined {
  const days: number[] = [];
  for (const part of key.toLowerCase().split(',')) {
    const m = /^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s*$/.exec(part);
    const from = WEEKDAYS.indexOf(m?.[1] as (typeof WEEKDAYS)[number]);
    const to = m?.[2] === undefined ? from : WEEKDAYS.indexOf(m[2] as (typeof WEEKDAYS)[number]);
    if (from < 0 || to < 0 || (m?.[2] !== undefined && from === to)) return undefined;
    // fri-mon wraps over the weekend: fri, sat, sun, mon.
    for (let d = from; ; d = (d + 1) % 7) {
      days.push(d);
      if (d === to) break;
    }
  }
  return days;
}

/** Minutes after midnight of `HH:MM` (`24:00` only as an end). */
function parseTime(text: string, isEnd: boolean): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [hours, minutes] = [Number(m[1]), Number(m[2])];
  if (hours === 24 && minutes === 0 && isEnd) return DAY_MINUTES;
  return hours < 24 && minutes < 60 ? hours * 60 + minutes : undefined;
}

/** A day's range in minutes after its midnight (the end past 24 h for an overnight range), or why not. */
function parseRange(text: string): Stretch | string {
  const m = /^\s*(\S+?)\s*-\s*(\S+)\s*$/.exec(text);
  const start = m ? parseTime(m[1] as string, false) : undefined;
  const end = m ? parseTime(m[2] as string, true) : undefined;
  if (start === undefined || end === undefined) return `"${text}" is not a time range: ${RANGE_HELP}`;
  if (start === end) return `"${text}" is an empty range: leave a closed day out, and write the whole day as 00:00-24:00`;
  return { start, end: end < start ? end + DAY_MINUTES : end };
}

/** `trading_hours` in a config file, parsed into a TradingHours. */
export const tradingHours = z
  .record(z.string(), z.union([z.string(), z.array(z.string())], { error: `must be "HH:MM-HH:MM" or a list of them` }))
  .transform((written, ctx) => {
    let valid = true;
    const problem = (path: Array<string | number>, message: string) => {
      valid = false;
      ctx.addIssue({ code: 'custom', path, message });
    };
    const keys = Object.keys(written);
    if (keys.length === 0) problem([], 'no day is listed, so the registers would never be trading: leave trading_hours out for always trading');
    const keyOfDay = new Map<number, string>();
    const stretches: Stretch[] = [];
    for (const key of keys) {
      const days = parseDays(key);
      if (!days) {
        problem([key], `"${key}" is not a weekday key: ${DAYS_HELP}`);
        continue;
      }
      for (const day of days) {
        const first = keyOfDay.get(day);
        if (first !== undefined) problem([key], `${WEEKDAYS[day]} is listed twice (in "${first}" and in "${key}")`);
        else keyOfDay.set(day, key);
      }
      const value = written[key] as string | string[];
      const ranges = typeof value === 'string' ? [value] : value;
      if (ranges.length === 0) problem([key], 'no hours given: leave a closed day out');
      ranges.forEach((text, i) => {
        const range = parseRange(text);
        if (typeof range === 'string') return problem(typeof value === 'string' ? [key] : [key, i], range);
        for (const day of days) stretches.push({ start: day * DAY_MINUTES + range.start, end: day * DAY_MINUTES + range.end });
      });
    }
    return valid ? new TradingHours(stretches, written) : z.NEVER;
  });
