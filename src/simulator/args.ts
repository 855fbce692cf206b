import { parseArgs } from 'node:util';
import { IANAZone } from 'luxon';
import { UKM_ENDPOINTS } from '../sources/ukm/config.js';
import { generatedAtolFleet } from './atol.js';
import { generatedBkCircuit, generatedBkFleet } from './businesskassa.js';
import { MAX_CLOUD_REGISTERS, MAX_CONTROL_LATENCY_MS } from './control-api.js';
import { demoFleet, generatedUkmFleet, type FleetSpec } from './fleet.js';
import { generatedK24Fleet } from './kassa24.js';

/** The most UKM tills one simulator serves: each listens on a loopback port of its own. */
export const MAX_UKM_REGISTERS = 20_000;

export const USAGE = `usage: kkt-simulator [--demo] [--ukm=N] [--atol=N] [--bk=N] [--kassa24=N] [--timezones=ZONE,...]
                     [--atol-latency-ms=MS] [--control-port=PORT] [--config-out=PATH] [--endpoints=a,b]

Serves simulated vendor APIs on 127.0.0.1 (each UKM register on its own port), a JSON control API
(GET /stats, PATCH /ukm/NAME, /atol/registers/SERIAL, /businesskassa/registers/SN,
/kassa24/registers/ID, ...: see the README), and writes an exporter config that monitors the fleet.
Prints one JSON line with the addresses once ready.

  --demo          the demo chain (kkt-exporter --demo): its faults, as the README lists them
  --ukm=N         N healthy UKM tills (0-${MAX_UKM_REGISTERS}); with --demo, N more beside the demo's
  --atol=N, --bk=N, --kassa24=N
                  N healthy registers of that cloud (0-${MAX_CLOUD_REGISTERS}); with --demo, N more
  --timezones=Z,...  the generated tills are dealt over these zones in turn (their local times)
With no --demo and no count, the demo chain.
`;

/** What the command line asks for. */
export interface SimulatorArgs {
  help: boolean;
  spec: FleetSpec;
  controlPort: number;
  configOut?: string;
  endpoints?: string[];
}

/** A bad command line, said in one line. */
export class UsageError extends Error {}

/** A whole number from 0 to `max` written in decimal digits, or a UsageError naming the flag. */
function count(flag: string, text: string | undefined, max: number): number {
  if (text === undefined) return 0;
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(n <= max)) throw new UsageError(`--${flag}=${text}: expected a whole number from 0 to ${max}`);
  return n;
}

function list(flag: string, text: string | undefined, valid: (item: string) => boolean): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim());
  const bad = items.filter((item) => !valid(item));
  if (bad.length) throw new UsageError(`--${flag}: not ${bad.length > 1 ? 'these' : 'this'}: ${bad.join(', ')}`);
  return items;
}

/** The fleet: the demo's (when asked, or when no count is given) plus the generated healthy registers. */
function fleetOf(demo: boolean, n: { ukm: number; atol: number; bk: number; kassa24: number }, timezones: string[], atolLatencyMs: number): FleetSpec {
  const base = demo ? demoFleet() : { ukm: [] };
  const now = Math.floor(Date.now() / 1000);
  const atol = [...(base.atol?.registers ?? []), ...generatedAtolFleet(n.atol, now, base.atol?.registers.length ?? 0)];
  const demoBk = base.businesskassa;
  const bk = generatedBkFleet(n.bk, demoBk?.registers.length ?? 0);
  const [demoCircuit, ...otherCircuits] = demoBk?.circuits ?? [];
  const circuits = demoCircuit ? [{ ...demoCircuit, frs: [...demoCircuit.frs, ...generatedBkCircuit(bk).frs] }, ...otherCircuits] : [generatedBkCircuit(bk)];
  const k24 = [...(base.kassa24?.registers ?? []), ...generatedK24Fleet(n.kassa24, now, base.kassa24?.registers.length ?? 0)];
  return {
    ...base,
    ukm: [...base.ukm, ...generatedUkmFleet(n.ukm, 'pos', timezones)],
    atol: atol.length ? { registers: atol, latencyMs: atolLatencyMs } : undefined,
    businesskassa: demoBk || bk.length ? { registers: [...(demoBk?.registers ?? []), ...bk], circuits } : undefined,
    kassa24: k24.length ? { registers: k24 } : undefined,
  };
}

/** Reads the simulator's command line; throws a UsageError for an unknown flag or a bad value. */
export function simulatorArgs(argv: string[]): SimulatorArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        demo: { type: 'boolean', default: false },
        ukm: { type: 'string' },
        atol: { type: 'string' },
        'atol-latency-ms': { type: 'string' },
        bk: { type: 'string' },
        kassa24: { type: 'string' },
        timezones: { type: 'string' },
        'control-port': { type: 'string' },
        'config-out': { type: 'string' },
        endpoints: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const n = {
    ukm: count('ukm', values.ukm, MAX_UKM_REGISTERS),
    atol: count('atol', values.atol, MAX_CLOUD_REGISTERS),
    bk: count('bk', values.bk, MAX_CLOUD_REGISTERS),
    kassa24: count('kassa24', values.kassa24, MAX_CLOUD_REGISTERS),
  };
  const counted = [values.ukm, values.atol, values.bk, values.kassa24].some((v) => v !== undefined);
  const timezones = list('timezones', values.timezones, (z) => IANAZone.isValidZone(z)) ?? [];
  const endpoints = list('endpoints', values.endpoints, (e) => (UKM_ENDPOINTS as readonly string[]).includes(e));
  return {
    help: values.help,
    spec: fleetOf(values.demo || !counted, n, timezones, count('atol-latency-ms', values['atol-latency-ms'], MAX_CONTROL_LATENCY_MS)),
    controlPort: count('control-port', values['control-port'], 65_535),
    ...(values['config-out'] !== undefined ? { configOut: values['config-out'] } : {}),
    ...(endpoints ? { endpoints } : {}),
  };
}
