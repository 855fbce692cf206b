import { defineVendor } from '../vendor.js';
import { Kassa24Client } from './client.js';
import { kassa24Source } from './config.js';
import { Kassa24Source } from './source.js';
import { XReportCache } from './xreport-cache.js';

/** The Kassa24 shift prober; its X-report cache outlives reloads (an X-report is a fiscal document). */
export const kassa24Vendor = defineVendor({
  type: 'kassa24',
  configSchema: kassa24Source,
  metrics: {
    kkt_up: 'GET /kkms/:IdKkm answered, with the register or with 403 "касса заблокирована" (then kkt_register_blocked 1 and nothing more is known); when GET /shifts/:IdShift fails it stays 1 and the register is partly read: kkt_probe_endpoint_success{endpoint="shift"} 0, the reason on the landing page',
    kkt_trading: 'config: trading_hours',
    kkt_unsent_docs: 'OfflineQueue (documents kept offline; when sent)',
    kkt_shift_open: 'IdStatusShift != 2 (1 open; a shift past 24 h turns "expired", a status of its own)',
    kkt_shift_number: 'ShiftIndex',
    kkt_shift_opened_timestamp_seconds: 'DateOpen',
    kkt_shift_closed_timestamp_seconds: 'DateClose (0001-01-01 while open = absent)',
    kkt_shift_locked: 'User.Lock',
    kkt_shift_balance_open: 'BalanceOpen',
    kkt_shift_balance_close: 'BalanceClose',
    kkt_shift_balance_close_non_cash: 'BalanceCloseNonCash',
    kkt_ofd_network_error_code: 'OfdCode (when sent; a value that is not a number is logged and absent)',
    kkt_register_blocked: 'IdStatusKkm == 3 (when sent), or a 403 "касса заблокирована" from GET /kkms/:IdKkm, GET /shifts/:IdShift or the X-report; Lock only with blocked_from_lock: true',
    kkt_xreport_operations: 'Total.*.Qty',
    kkt_xreport_amount: 'Total.*.Amount',
    kkt_xreport_cumulative_amount: 'Total.*.Cumulative',
    kkt_xreport_all_operations: 'Count',
    kkt_xreport_total_amount: 'TotalAmount',
    kkt_xreport_cash_received_amount: 'TotalCashReceivedAmount',
    kkt_xreport_change_amount: 'TotalChangeAmount',
    kkt_xreport_discount_amount: 'TotalDiscountAmount',
    kkt_xreport_markup_amount: 'TotalMarkupAmount',
    kkt_xreport_vat_amount: 'TotalNdsAmount',
    kkt_xreport_balance_open: 'BalanceOpen',
    kkt_xreport_balance_close: 'BalanceClose',
    kkt_xreport_balance_close_non_cash: 'BalanceCloseNonCash',
    kkt_xreport_timestamp_seconds: 'the time the exporter took it',
  },
  infoLabels: { id_kkm: 'IdKkm', name: 'Name', znm: 'Znm', rnm: 'Rnm' },
  sharding: 'register',
  identityColumns: ['IdKkm', 'id_kkm'],
  createState: () => new XReportCache(),
  build: (config, ctx, xreports) => {
    const session = ctx.sessions.get(['kassa24', config.url, config.login, config.password]);
    const client = new Kassa24Client(config, ctx.http(config.concurrency), session);
    return new Kassa24Source(config, client, config.timezone ?? ctx.global.timezone, xreports, ctx.shard);
  },
});
