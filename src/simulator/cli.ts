#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generatedAtolFleet } from './atol.js';
import { generatedBkCircuit, generatedBkFleet } from './businesskassa.js';
import { generatedK24Fleet } from './kassa24.js';
import { demoFleet, generatedUkmFleet, SimulatedFleet, type FleetSpec } from './fleet.js';

const USAGE = `usage: kkt-simulator [--demo | --ukm=N] [--atol=N] [--atol-latency-ms=MS] [--bk=N] [--kassa24=N]
                     [--control-port=PORT] [--config-out=PATH] [--endpoints=a,b]

Serves simulated vendor APIs on 127.0.0.1 (each UKM register on its own port), a JSON control API
(GET /stats, GET /ukm, PATCH /ukm/NAME {"fault": "...", "state": {...}}), and writes an exporter
config that monitors the fleet. Prints one JSON line with the addresses once ready.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      demo: { type: 'boolean', default: false },
      ukm: { type: 'string' },
      atol: { type: 'string' },
      'atol-latency-ms': { type: 'string', default: '0' },
      /** BusinessKassa registers, all in one configured fiscal circuit. */
      bk: { type: 'string' },
      kassa24: { type: 'string' },
      'control-port': { type: 'string', default: '0' },
      'config-out': { type: 'string' },
      endpoints: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const generated = [values.ukm, values.atol, values.bk, values.kassa24].some((n) => n !== undefined);
  const bk = values.bk ? generatedBkFleet(Number(values.bk)) : undefined;
  const spec: FleetSpec = generated
    ? {
        ukm: generatedUkmFleet(Number(values.ukm ?? 0)),
        atol: values.atol ? { registers: generatedAtolFleet(Number(values.atol)), latencyMs: Number(values['atol-latency-ms']) } : undefined,
        businesskassa: bk ? { registers: bk, circuits: [generatedBkCircuit(bk)] } : undefined,
        kassa24: values.kassa24 ? { registers: generatedK24Fleet(Number(values.kassa24)) } : undefined,
      }
    : demoFleet();
  const fleet = await SimulatedFleet.start(spec);
  const control = await fleet.startControl(Number(values['control-port']));
  if (values['config-out']) {
    await writeFile(values['config-out'], fleet.exporterConfig({ ukmEndpoints: values.endpoints?.split(',') }));
  }
  process.stdout.write(`${JSON.stringify({ control, config: values['config-out'] ?? null, ukm_registers: fleet.ukm.registers.length })}\n`);
  const stop = () => void fleet.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`kkt-simulator: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(1);
});
