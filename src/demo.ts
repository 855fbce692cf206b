import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoFleet, SimulatedFleet } from './simulator/fleet.js';

export interface Demo {
  fleet: SimulatedFleet;
  configFile: string;
  controlUrl: string;
}

/** Starts the built-in simulated chain on loopback and writes an exporter config that watches it. */
export async function startDemo(): Promise<Demo> {
  const fleet = await SimulatedFleet.start(demoFleet());
  const dir = await mkdtemp(join(tmpdir(), 'kkt-exporter-demo-'));
  const configFile = join(dir, 'kkt-exporter.yml');
  await writeFile(configFile, `# Written by kkt-exporter --demo: the built-in simulated fleet.\n${fleet.exporterConfig()}`);
  const controlUrl = await fleet.startControl();
  return { fleet, configFile, controlUrl };
}

export function demoBanner(demo: Demo, exporterUrl: string): string {
  const regs = demo.fleet.ukm.registers;
  const stores = new Set(regs.map((r) => r.labels.store)).size;
  const closedHours = demo.fleet.spec.tradingHours?.registers?.['spb-101-pos04']?.['mon-sun'];
  return [
    '',
    `kkt-exporter demo: ${regs.length} simulated UKM 5 registers in ${stores} stores, a ${demo.fleet.atol?.registers.length ?? 0}-register ATOL Online account,`,
    `a ${demo.fleet.businesskassa?.registers.length ?? 0}-register BusinessKassa service and ${demo.fleet.kassa24?.registers.length ?? 0} Kassa24 registers, on 127.0.0.1.`,
    `  All registers, read now:  ${exporterUrl}/metrics   (takes ~6 s: one request per second per register)`,
    `  One register:             ${exporterUrl}/probe?source=stores&target=msk-012-pos02`,
    `  Overview page:            ${exporterUrl}/`,
    `  Config in use:            ${demo.configFile}`,
    `  Simulator control API:    ${demo.controlUrl}/stats  (PATCH ${demo.controlUrl}/ukm/<register> {"state":{"paper":true}})`,
    '  Faults to look for: msk-012-pos02 out of paper (kkt_paper_present 0), msk-047-pos01 17 unsent receipts,',
    '  spb-101-pos03 receipt open, spb-101-pos04 powered off (kkt_up 0), msk-047-pos03 SuperMag Vision link down,',
    '  every register of store 205 (kzn-205-pos01..03) powered off: one KktStoreUnreachable, not three register alerts;',
    `  Trading hours: every store and source trades around the clock, but store 101 trades ${closedHours ?? '?'} daily (Moscow time):`,
    '  it is closed now (kkt_trading 0), so its powered-off register does not page until it opens;',
    '  ATOL (source="atol-cloud"): FN 85 % and 95 % full, FN expiring in 10 days, documents unsent for 5 days, OFD error 2;',
    '  BusinessKassa (source="bk"): FN post-fiscal (phase 7), MCU at 78 C, 23 documents unsent for 2 days, FN flag 0x02;',
    '  Kassa24 (source="kz"): a shift open 23.5 h, a closed shift, a shift past 24 h, X-report sales.',
    '',
  ].join('\n');
}
