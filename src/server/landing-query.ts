import { planDays } from '../status/fn-plan.js';

/** The states a register's row shows on the landing page, as `GET /?state=` names them. */
export const ROW_STATES = ['ok', 'check', 'needs-attention', 'not-read', 'closed', 'not-read-yet'] as const;
export type RowState = (typeof ROW_STATES)[number];

/** `GET /?source=&store=&state=&page=`: which registers to list, 200 a page. Empty values filter nothing (a form sends them). */
export interface LandingQuery {
  source?: string;
  store?: string;
  state?: RowState;
  /** From 1; set only when the query asks for a list. */
  page?: number;
  /** The FN replacement plan's horizon (planDays); not a list filter. */
  days?: number;
}

const PARAMS = ['source', 'store', 'state', 'page', 'days'] as const;
/** Longer than any source name or store label a page link carries. */
export const MAX_VALUE_LENGTH = 200;
/** More pages than a fleet of MAX_CLOUD_REGISTERS-sized sources has at 200 a page. */
const MAX_PAGE = 100_000;
const USAGE = 'GET / takes source, store, state, page and days';

type Parsed = { ok: true; query: LandingQuery } | { ok: false; error: string };

/** Checks a landing page request's query (Express's simple parser: a repeated parameter is an array). */
export function landingQuery(raw: Record<string, unknown>): Parsed {
  const unknown = Object.keys(raw).filter((k) => !(PARAMS as readonly string[]).includes(k));
  if (unknown.length > 0) return { ok: false, error: `unknown parameter(s): ${unknown.slice(0, 5).map((k) => k.slice(0, 40)).join(', ')}; ${USAGE}` };
  const query: LandingQuery = {};
  for (const name of PARAMS) {
    const v = raw[name];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string') return { ok: false, error: `${name} may be given once; ${USAGE}` };
    if (v.length > MAX_VALUE_LENGTH) return { ok: false, error: `${name} is longer than ${MAX_VALUE_LENGTH} characters` };
    if (name === 'state') {
      if (!(ROW_STATES as readonly string[]).includes(v)) return { ok: false, error: `state must be one of ${ROW_STATES.join(', ')}` };
      query.state = v as RowState;
    } else if (name === 'page') {
      const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && n <= MAX_PAGE)) return { ok: false, error: `page must be a whole number from 1 to ${MAX_PAGE}` };
      query.page = n;
    } else if (name === 'days') {
      const days = planDays(v);
      if ('error' in days) return { ok: false, error: days.error };
      query.days = days.days;
    } else query[name] = v;
  }
  return { ok: true, query };
}

/** Whether the query asks for a list of registers rather than the whole page. */
export const isListQuery = (q: LandingQuery): boolean => Object.keys(q).some((k) => k !== 'days');

/** The query string (with `?`, HTML-escaped `&amp;`) of the list `q` at `page`, keeping the plan's `days`. */
export function listHref(q: LandingQuery, page: number): string {
  const parts = (['source', 'store', 'state'] as const).flatMap((k) => (q[k] ? [`${k}=${encodeURIComponent(q[k])}`] : []));
  if (page > 1 || parts.length === 0) parts.push(`page=${page}`);
  if (q.days !== undefined) parts.push(`days=${q.days}`);
  return `?${parts.join('&amp;')}`;
}
