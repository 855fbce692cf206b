#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generatedAtolFleet } from './atol.js';
import { demoFleet, generatedUkmFleet, SimulatedFleet, type FleetSpec } from './fleet.js';

const USAGE = `usage: kkt-simulator [--demo | --ukm=N] [--atol=N] [--atol-latency-ms=MS] [--control-port=PORT]
                     [--config-out=PATH] [--endpoints=a,b]

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
  const generated = values.ukm !== undefined || values.atol !== undefined;
  const spec: FleetSpec = generated
    ? {
        ukm: generatedUkmFleet(Number(values.ukm ?? 0)),
        atol: values.atol ? { registers: generatedAtolFleet(Number(values.atol)), latencyMs: Number(values['atol-latency-ms']) } : undefined,
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
