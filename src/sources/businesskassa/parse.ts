import { z } from 'zod';
import { bool, int, num, opt, str } from '../fields.js';
import { fnFlagSamples } from '../fn-flags.js';
import { parseRecord, type RecordResult } from '../records.js';
import { readingOf } from '../../readings/reading.js';
import { fieldSeconds } from '../time.js';

/**
 * The FN block of a register. The vendor's document names the fields but not all their meanings;
 * these follow the FN protocol: `ofd.number` documents not yet sent to the OFD, `ofd.fd_first*` the
 * first of them, `phase` the FN's life phase (3 fiscal mode), `flags` its warning bits.
 */
const fsSchema = z.looseObject({
  inn: opt(str),
  rnm: opt(str),
  phase: opt(int),
  sn: opt(str),
  flags: opt(int),
  shift_is_open: opt(bool),
  ofd: opt(
    z.looseObject({
      number: opt(int),
      fd_first: opt(int),
      fd_first_timestamp: opt(str),
    }),
  ),
  mode: opt(int),
  tax_system: opt(int),
  agent: opt(int),
  current_document: opt(int),
});

/** One register of `GET /frs` or `GET /frs/:eip`; unknown fields are ignored. */
export const bkRegisterSchema = z.looseObject({
  eip: opt(str),
  sn: str.pipe(z.string().min(1)),
  timestamp: opt(str),
  mcu_temperature: opt(num),
  fs: opt(fsSchema),
});

/** `GET /frs`: records stay unparsed here so one bad record fails alone. */
export const bkFleetSchema = z.array(z.unknown());

/** `GET /fcircuit/:inn`. */
export const bkCircuitSchema = z.looseObject({
  id: opt(str),
  inn: opt(str),
  title: opt(str),
  frs: z
    .array(z.looseObject({ eip: str, type: opt(str), is_active: bool }))
    .nullish()
    .transform((v) => v ?? []),
});
export type BkCircuit = z.infer<typeof bkCircuitSchema>;

/** The service's error bodies are not documented; take whatever message it gives. */
export function readBkError(_status: number, body: unknown): { message?: string } {
  if (typeof body === 'string') return { message: body.slice(0, 200) };
  if (body === null || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const msg = [b.message, b.error, b.detail].find((v) => typeof v === 'string');
  return { message: msg as string | undefined };
}

const label = (v: number | undefined) => (v === undefined ? undefined : String(v));

/** A register record turned into a reading; `timestamp` is `dd.MM.yyyy HH:mm` read in `zone`. */
export function parseBkRegister(raw: unknown, zone: string, endpoint: string): RecordResult {
  return parseRecord(bkRegisterSchema, raw, 'sn', (r) => {
    const fs = r.fs;
    const fdFirst = fs?.ofd?.fd_first;
    const reading = readingOf(
      r.sn,
      endpoint,
      {
        serial: r.sn,
        eip: r.eip,
        rnm: fs?.rnm,
        fn_serial: fs?.sn,
        inn: fs?.inn,
        fn_mode: label(fs?.mode),
        tax_system: label(fs?.tax_system),
        agent: label(fs?.agent),
      },
      {
        kkt_unsent_docs: fs?.ofd?.number,
        kkt_unsent_oldest_timestamp_seconds: fieldSeconds(fs?.ofd?.fd_first_timestamp, 'fs.ofd.fd_first_timestamp', zone),
        kkt_unsent_oldest_document_number: fdFirst === 0 ? undefined : fdFirst,
        kkt_fn_phase: fs?.phase,
        kkt_fn_warning_flags: fs?.flags,
        kkt_shift_open: fs?.shift_is_open === undefined ? undefined : Number(fs.shift_is_open),
        kkt_mcu_temperature_celsius: r.mcu_temperature,
        kkt_status_timestamp_seconds: fieldSeconds(r.timestamp, 'timestamp', zone),
      },
    );
    reading.samples.push(...fnFlagSamples(fs?.flags));
    return reading;
  });
}
