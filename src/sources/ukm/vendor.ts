import { defineVendor } from '../vendor.js';
import { ukmRegistersFile, ukmSource, type UkmRegisterConfig } from './config.js';
import { UkmRegisterPool } from './reads.js';
import { UkmSource } from './source.js';
import { spelledAddress } from './address.js';

/** UKM 5 registers, each polled directly; the register pool (rate gates, reads, resolved addresses) outlives reloads. */
export const ukmVendor = defineVendor({
  type: 'ukm',
  configSchema: ukmSource,
  metrics: {
    kkt_up: 'any endpoint answered',
    kkt_trading: 'config: trading_hours',
    kkt_paper_present: 'paper (200 / 204)',
    kkt_unsent_docs: 'ofd',
    kkt_receipt_open: 'last_receipt_time / downtime (200 / 204)',
    kkt_receipt_last_activity_timestamp_seconds: 'last_receipt_time',
    kkt_receipt_last_closed_timestamp_seconds: 'downtime',
    kkt_user_role_id: 'user_role_id',
    kkt_vision_connected: 'vision (200 / 204)',
    kkt_scale_weight: 'weight',
  },
  infoLabels: { url: 'url' },
  sharding: 'register',
  identityColumns: ['name'],
  registersFile: ukmRegistersFile,
  addressOf: (register) => spelledAddress((register as UkmRegisterConfig).url),
  createState: () => new UkmRegisterPool(),
  // One connection per register: its requests are one at a time anyway. Host names resolve
  // through the pool's cache, so a request goes to the address its register's gate is keyed by.
  build: (config, ctx, pool) =>
    new UkmSource(config, { http: ctx.http(1, pool.addresses.lookup), pool, timezone: config.timezone ?? ctx.global.timezone, shard: ctx.shard }),
});
