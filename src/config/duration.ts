/** Prometheus duration syntax (`1s`, `15m`, `1h30m`, `500ms`), as in prometheus/common/model. */
const UNITS_MS: Array<[string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds, or undefined when the text is not a Prometheus duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  const match = DURATION_RE.exec(text);
  if (!match) return undefined;
  let ms = 0;
  UNITS_MS.forEach(([, unitMs], i) => {
    const part = match[i + 1];
    if (part !== undefined) ms += Number(part) * unitMs;
  });
  return ms;
}

/** Milliseconds as a Prometheus duration in whole seconds (`0s`, `45s`, `1h2m5s`, `3d4h`): the inverse of parseDuration. */
export function formatDuration(ms: number): string {
  let seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds === 0) return '0s';
  let text = '';
  for (const [unit, unitMs] of UNITS_MS) {
    const unitSeconds = unitMs / 1000;
    if (unitSeconds < 1 || seconds < unitSeconds) continue;
    text += `${Math.floor(seconds / unitSeconds)}${unit}`;
    seconds %= unitSeconds;
  }
  return text;
}
