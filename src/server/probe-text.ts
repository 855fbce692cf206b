import { maskedYaml } from '../config/mask.js';
import { formatLogfmt } from '../log.js';
import type { Exposition } from '../metrics/render.js';
import type { Source } from '../sources/source.js';
import type { ReadHistory, ReadRecord } from '../status/history.js';

/**
 * `/probe?debug=true`, in blackbox_exporter's manner: the probe's logs, the metrics it would have
 * answered, and its source's config with the secrets masked.
 */
export function probeDebugText(record: ReadRecord, metrics: Exposition, source: Source): string {
  return [probeLogText(record), '', 'Metrics that would have been returned:', metrics.join(''), 'Source configuration:', maskedYaml(source.config)].join('\n');
}

/** `/logs?id=N`: a recent probe's logs from the history, without asking the vendor again. */
export function probeLogAnswer(history: ReadHistory, id: number): { status: number; body: string } {
  const record = history.get(id);
  if (!record) return { status: 404, body: `probe ${id} is no longer in the history (the last ${history.limit} probes and ${history.limit} failures are kept)\n` };
  return { status: 200, body: `${probeHeading(record)}\n\n${probeLogText(record)}\n` };
}

/** A probe's logs as blackbox_exporter prints them (`Logs for the probe:` first). */
function probeLogText(r: ReadRecord): string {
  return ['Logs for the probe:', ...r.logs.map(formatLogfmt), ...(r.logsOmitted > 0 ? [`... and ${r.logsOmitted} more log lines, not kept`] : [])].join('\n');
}

/** What was probed, when, and how it ended: the first line of `/logs?id=`. */
function probeHeading(r: ReadRecord): string {
  const what = r.target === undefined ? `source ${r.source}` : `register ${r.target} of source ${r.source}`;
  const how = `${r.success ? 'succeeded' : 'failed'} in ${r.durationSeconds.toFixed(3)} s${r.error ? `: ${r.error}` : ''}`;
  return `Probe ${r.id} of ${what} (${r.via === 'metrics' ? 'a /metrics scrape' : '/probe'}) at ${r.at.toISOString()}: ${how}`;
}
