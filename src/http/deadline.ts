/** Prometheus sends its scrape timeout in this header; the probe must answer before it. */
export const SCRAPE_TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds';

/**
 * The longest a probe may take, whatever a client or the config asks: Prometheus's staleness window.
 * A scrape that takes longer would leave its series stale anyway, and Node's timers overflow past
 * 2^31 ms (they fire at once).
 */
export const MAX_PROBE_SECONDS = 300;

/**
 * Seconds a probe may take, as blackbox_exporter's getTimeout computes it: Prometheus's timeout
 * (or `defaultSeconds` when the request has no header) minus `offsetSeconds`, capped by the source's
 * own `timeout` (0 = none), and never more than MAX_PROBE_SECONDS. An unreadable header counts as no
 * header.
 */
export function probeTimeoutSeconds(
  header: string | undefined,
  sourceTimeoutSeconds: number,
  offsetSeconds: number,
  defaultSeconds: number,
): number {
  const fromHeader = header === undefined || header.trim() === '' ? NaN : Number(header);
  const timeout = Number.isFinite(fromHeader) && fromHeader > 0 ? fromHeader : defaultSeconds;
  const max = timeout - offsetSeconds;
  const seconds = (sourceTimeoutSeconds > 0 && sourceTimeoutSeconds < max) || max < 0 ? sourceTimeoutSeconds : max;
  return Math.min(seconds, MAX_PROBE_SECONDS);
}

/** A point on the monotonic clock (performance.now() milliseconds) by which work must be done. */
export type Deadline = number;

export function deadlineIn(ms: number): Deadline {
  return performance.now() + ms;
}

export function remainingMs(deadline: Deadline): number {
  return Math.max(0, deadline - performance.now());
}

/** An AbortSignal that fires at the deadline: undici's own timers are only about 1 s granular. */
export function deadlineSignal(deadline: Deadline): AbortSignal {
  return AbortSignal.timeout(Math.max(1, Math.ceil(remainingMs(deadline))));
}

/** `promise`'s value if it settles by the deadline, else undefined; the work itself goes on. */
export async function settleBy<T>(promise: Promise<T>, deadline: Deadline): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), remainingMs(deadline));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
