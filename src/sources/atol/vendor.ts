import { defineVendor } from '../vendor.js';
import { AtolClient } from './client.js';
import { atolSource } from './config.js';
import { AtolSource } from './source.js';

/** ATOL Online's cloud monitoring; its token session outlives reloads through the session registry. */
export const atolVendor = defineVendor({
  type: 'atol',
  configSchema: atolSource,
  metrics: {
    kkt_up: 'its record was in the list (or the one-register call) and valid',
    kkt_trading: 'config: trading_hours',
    kkt_unsent_docs: 'unsentDocs (absent = 0)',
    kkt_unsent_oldest_timestamp_seconds: 'firstUnsetDocTimestamp',
    kkt_fn_usage_percent: 'fiscalStoragePercentageUse',
    kkt_fn_expiry_timestamp_seconds: 'fiscalStorageExpiration',
    kkt_fn_documents: 'signedDocuments',
    kkt_fn_fiscalization_timestamp_seconds: 'fiscalizationDate',
    kkt_shift_open: 'isShiftOpened',
    kkt_shift_number: 'shiftNumber',
    kkt_shift_receipts: 'shiftReceipt',
    kkt_ofd_network_error_code: 'networkErrorCode',
    kkt_status_timestamp_seconds: 'timestamp',
  },
  infoLabels: {
    serial: 'serialNumber',
    rnm: 'registrationNumber',
    device_number: 'deviceNumber',
    fn_serial: 'fiscalStorageSerialNumber',
    inn: 'fiscalStorageINN',
    payment_address: 'fiscalStoragePaymentAddress',
    group_code: 'groupCode',
  },
  sharding: 'source',
  identityColumns: ['serial'],
  createState: () => undefined,
  build: (config, ctx) => {
    const session = ctx.sessions.get(['atol', config.url, config.login, config.password]);
    const client = new AtolClient(config, ctx.http(config.page_concurrency), session);
    // ATOL documents its times as UTC: the global zone is for vendors that say nothing.
    return new AtolSource(config, client, config.timezone ?? 'UTC');
  },
});
