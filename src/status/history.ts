import type { LogRecord } from '../log.js';

/** One read of a source (a `/metrics` scrape's part, or a `/probe`) and what it logged. */
export interface ReadRecord {
  id: number;
  at: Date;
  source: string;
  /** The register probed alone, if it was. */
  target?: string;
  /** That register is not in the config (a UKM `allowed_targets` address): its status is bounded apart. */
  adHoc?: true;
  via: 'metrics' | 'probe';
  success: boolean;
  durationSeconds: number;
  error?: string;
  logs: LogRecord[];
  /** Log records past the bound, counted but not kept. */
  logsOmitted: number;
}

/** Log records kept per probe: a source of 5,000 failing registers logs a line each. */
export const MAX_LOGS_PER_PROBE = 500;

/**
 * The last probes and their logs, in memory, as blackbox_exporter keeps them (`/logs?id=`): the
 * last `limit` probes, plus the last `limit` failed ones, so that a failure is still there after a
 * busy `/probe` job has pushed it out of the recent ones.
 */
export class ReadHistory {
  private nextId = 0;
  private recent: ReadRecord[] = [];
  private failed: ReadRecord[] = [];

  constructor(readonly limit = 100) {}

  /** Starts a record; the probe's log records go to `capture`, and `finish` files it. */
  begin(source: string, via: ReadRecord['via'], target?: string, adHoc = false): { capture: (r: LogRecord) => void; finish: (r: Pick<ReadRecord, 'success' | 'durationSeconds' | 'error'>) => ReadRecord } {
    const record: ReadRecord = { id: 0, at: new Date(), source, via, success: false, durationSeconds: 0, logs: [], logsOmitted: 0 };
    if (target !== undefined) record.target = target;
    if (adHoc) record.adHoc = true;
    return {
      capture: (r) => {
        if (record.logs.length < MAX_LOGS_PER_PROBE) record.logs.push(r);
        else record.logsOmitted++;
      },
      finish: (result) => {
        Object.assign(record, result, { id: this.nextId++ });
        this.push(this.recent, record);
        if (!record.success) this.push(this.failed, record);
        return record;
      },
    };
  }

  private push(list: ReadRecord[], record: ReadRecord): void {
    list.push(record);
    if (list.length > this.limit) list.shift();
  }

  get(id: number): ReadRecord | undefined {
    return this.recent.find((r) => r.id === id) ?? this.failed.find((r) => r.id === id);
  }

  /** Newest first, the kept failures included once. */
  list(): ReadRecord[] {
    const byId = new Map<number, ReadRecord>();
    for (const r of [...this.recent, ...this.failed]) byId.set(r.id, r);
    return [...byId.values()].sort((a, b) => b.id - a.id);
  }
}
