import { defineVendor } from '../vendor.js';
import { BusinessKassaClient } from './client.js';
import { businessKassaSource } from './config.js';
import { BusinessKassaSource } from './source.js';

/** BusinessKassa's cloud register service, behind static credentials. */
export const businessKassaVendor = defineVendor({
  type: 'businesskassa',
  configSchema: businessKassaSource,
  metrics: {
    kkt_up: 'its record was in GET /frs (or GET /frs/:eip) and valid',
    kkt_trading: 'config: trading_hours',
    kkt_unsent_docs: 'fs.ofd.number',
    kkt_unsent_oldest_timestamp_seconds: 'fs.ofd.fd_first_timestamp ("Invalid date" = none)',
    kkt_unsent_oldest_document_number: 'fs.ofd.fd_first (0 = none)',
    kkt_fn_phase: 'fs.phase',
    kkt_fn_warning_flags: 'fs.flags',
    kkt_fn_warning_flag: 'fs.flags, one bit each',
    kkt_shift_open: 'fs.shift_is_open',
    kkt_status_timestamp_seconds: 'timestamp (dd.MM.yyyy HH:mm in the source\'s time zone)',
    kkt_mcu_temperature_celsius: 'mcu_temperature',
    kkt_circuit_active: 'GET /fcircuit/:inn (circuit_path) frs[].is_active (for the configured circuits)',
  },
  infoLabels: {
    serial: 'sn',
    eip: 'eip',
    rnm: 'fs.rnm',
    fn_serial: 'fs.sn',
    inn: 'fs.inn',
    fn_mode: 'fs.mode',
    tax_system: 'fs.tax_system',
    agent: 'fs.agent',
  },
  sharding: 'source',
  identityColumns: ['sn'],
  createState: () => undefined,
  build: (config, ctx) => new BusinessKassaSource(config, new BusinessKassaClient(config, ctx.http(2)), config.timezone ?? ctx.global.timezone),
});
