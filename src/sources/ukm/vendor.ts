import { defineVendor } from '../vendor.js';
import { ukmRegistersFile, ukmSource } from './config.js';
import { UkmRegisterPool } from './reads.js';
import { UkmSource } from './source.js';

/** UKM 5 registers, each polled directly; the register pool (rate gates, reads) outlives reloads. */
export const ukmVendor = defineVendor({
  type: 'ukm',
  configSchema: ukmSource,
  sharding: 'register',
  registersFile: ukmRegistersFile,
  createState: () => new UkmRegisterPool(),
  // One connection per till: requests to a register are one at a time anyway.
  build: (config, ctx, pool) => new UkmSource(config, { http: ctx.http(1), pool, timezone: config.timezone ?? ctx.global.timezone, shard: ctx.shard }),
});
