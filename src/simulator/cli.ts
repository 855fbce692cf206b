#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { simulatorArgs, USAGE, UsageError } from './args.js';
import { SimulatedFleet } from './fleet.js';

async function main(): Promise<void> {
  const args = simulatorArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const fleet = await SimulatedFleet.start(args.spec);
  const control = await fleet.startControl(args.controlPort);
  if (args.configOut) await writeFile(args.configOut, fleet.exporterConfig({ ukmEndpoints: args.endpoints }));
  process.stdout.write(`${JSON.stringify({ control, config: args.configOut ?? null, ukm_registers: fleet.ukm.registers.length })}\n`);
  const stop = () => void fleet.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  const usage = err instanceof UsageError ? `\n${USAGE}` : '\n';
  process.stderr.write(`kkt-simulator: ${err instanceof Error ? err.message : String(err)}${usage}`);
  process.exit(1);
});
