import { defineVendor } from '../vendor.js';
import { Kassa24Client } from './client.js';
import { kassa24Source } from './config.js';
import { Kassa24Source } from './source.js';
import { XReportCache } from './xreport-cache.js';

/** The Kassa24 shift prober; its X-report cache outlives reloads (an X-report is a fiscal document). */
export const kassa24Vendor = defineVendor({
  type: 'kassa24',
  configSchema: kassa24Source,
  sharding: 'register',
  createState: () => new XReportCache(),
  build: (config, ctx, xreports) => {
    const session = ctx.sessions.get(['kassa24', config.url, config.login, config.password]);
    const client = new Kassa24Client(config, ctx.http(config.concurrency), session);
    return new Kassa24Source(config, client, config.timezone ?? ctx.global.timezone, xreports, ctx.shard);
  },
});
