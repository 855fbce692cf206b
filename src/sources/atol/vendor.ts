import { defineVendor } from '../vendor.js';
import { AtolClient } from './client.js';
import { atolSource } from './config.js';
import { AtolSource } from './source.js';

/** ATOL Online's cloud monitoring; its token session outlives reloads through the session registry. */
export const atolVendor = defineVendor({
  type: 'atol',
  configSchema: atolSource,
  sharding: 'source',
  createState: () => undefined,
  build: (config, ctx) => {
    const session = ctx.sessions.get(['atol', config.url, config.login, config.password]);
    const client = new AtolClient(config, ctx.http(config.page_concurrency), session);
    // ATOL documents its times as UTC: the global zone is for vendors that say nothing.
    return new AtolSource(config, client, config.timezone ?? 'UTC');
  },
});
