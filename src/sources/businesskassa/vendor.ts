import { defineVendor } from '../vendor.js';
import { BusinessKassaClient } from './client.js';
import { businessKassaSource } from './config.js';
import { BusinessKassaSource } from './source.js';

/** BusinessKassa's cloud register service, behind static credentials. */
export const businessKassaVendor = defineVendor({
  type: 'businesskassa',
  configSchema: businessKassaSource,
  sharding: 'source',
  createState: () => undefined,
  build: (config, ctx) => new BusinessKassaSource(config, new BusinessKassaClient(config, ctx.http(2)), config.timezone ?? ctx.global.timezone),
});
