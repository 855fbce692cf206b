/**
 * Every metric the exporter exposes: name, type, help, labels and scope. This table is the single
 * source for the code that sets them, the README's metric table and the tests that check both;
 * which vendor fills a register metric, and from which field, each vendor says in its own folder.
 */
export type MetricType = 'gauge' | 'counter' | 'histogram';

/**
 * Where a scrape's series of a family go: `register`, one per register, among its register's
 * lines; `source`, one per source, after every register's.
 */
export type MetricScope = 'register' | 'source';

export interface MetricDef {
  type: MetricType;
  help: string;
  /** Labels beyond the ones every series of its kind carries (see the sections below). */
  labels: readonly string[];
}

/** A metric of a scrape's readings (`/metrics` and `/probe`), as opposed to the exporter's own. */
export interface ScrapeMetricDef extends MetricDef {
  scope: MetricScope;
}

/**
 * The FN warning flags byte (bits as open-source register drivers read them; docs/alerts.md says what
 * each asks of a person): the `flag` label of kkt_fn_warning_flag, by bit. PromQL has
 * no bitwise operators, so each flag gets its own series and can page with its own severity.
 */
export const FN_WARNING_FLAGS = {
  urgent_replacement: 0x01,
  resource_exhausted: 0x02,
  memory_full: 0x04,
  ofd_timeout: 0x08,
  format_error: 0x10,
  setup_required: 0x20,
  ofd_cancelled: 0x40,
  critical_error: 0x80,
} as const;
export type FnWarningFlag = keyof typeof FN_WARNING_FLAGS;

const CACHED = 'From the last X-report, which is cached: a fiscal document, taken at most once per xreport.min_interval while the shift is open.';

/** X-report totals, all cached between X-reports. */
function xreportMetrics() {
  const total = (help: string): ScrapeMetricDef => ({ type: 'gauge', help: `${help} ${CACHED}`, labels: [], scope: 'register' });
  const perOperation = (help: string): ScrapeMetricDef => ({ type: 'gauge', help: `${help} ${CACHED}`, labels: ['operation'], scope: 'register' });
  return {
    kkt_xreport_operations: perOperation('Operations in the shift, by operation (sales, purchases, refunds, purchase_refunds, expenses, incomes).'),
    kkt_xreport_amount: perOperation('Amount of the shift\'s operations, by operation, in the register\'s currency (tenge).'),
    kkt_xreport_cumulative_amount: perOperation('Amount of all operations over all shifts, by operation, in the register\'s currency (tenge).'),
    kkt_xreport_all_operations: total('Operations in the shift, all kinds.'),
    kkt_xreport_total_amount: total('Total amount of the shift, in tenge.'),
    kkt_xreport_cash_received_amount: total('Cash received in the shift, in tenge.'),
    kkt_xreport_change_amount: total('Change given in the shift, in tenge.'),
    kkt_xreport_discount_amount: total('Discounts given in the shift, in tenge.'),
    kkt_xreport_markup_amount: total('Markups charged in the shift, in tenge.'),
    kkt_xreport_vat_amount: total('VAT (NDS) in the shift, in tenge.'),
    kkt_xreport_balance_open: total('Cash at the opening of the shift, in tenge.'),
    kkt_xreport_balance_close: total('Cash in the register when the X-report was taken, in tenge.'),
    kkt_xreport_balance_close_non_cash: total('Non-cash funds when the X-report was taken, in tenge.'),
    kkt_xreport_timestamp_seconds: {
      type: 'gauge',
      help: 'When the cached X-report was taken, as a Unix timestamp.',
      labels: [],
      scope: 'register',
    } satisfies ScrapeMetricDef,
  } as const;
}

/**
 * Register-level series. Each carries `source`, `kkt` and the register's static labels, plus the
 * labels named here.
 */
export const REGISTER_METRICS = {
  kkt_up: {
    type: 'gauge',
    help: '1 if this register\'s data was read in this scrape, 0 if not.',
    labels: [],
    scope: 'register',
  },
  kkt_trading: {
    type: 'gauge',
    help: '1 if the register is inside its trading hours (trading_hours, on its own clock), 0 if outside; 1 when none are set.',
    labels: [],
    scope: 'register',
  },
  kkt_info: {
    type: 'gauge',
    help: 'Identity of the register (serial, registration and FN numbers, address); always 1.',
    labels: [],
    scope: 'register',
  },
  kkt_paper_present: {
    type: 'gauge',
    help: '1 if the register reports paper in its printer, 0 if it is out of paper.',
    labels: [],
    scope: 'register',
  },
  kkt_unsent_docs: {
    type: 'gauge',
    help: 'Fiscal documents not yet confirmed by the OFD (fiscal data operator).',
    labels: [],
    scope: 'register',
  },
  kkt_unsent_oldest_timestamp_seconds: {
    type: 'gauge',
    help: 'When the oldest fiscal document not yet confirmed by the OFD was made, as a Unix timestamp; absent when none is unsent. After 30 days the FN blocks the register.',
    labels: [],
    scope: 'register',
  },
  kkt_unsent_oldest_document_number: {
    type: 'gauge',
    help: 'Fiscal document number of the oldest document not yet confirmed by the OFD; absent when none is unsent.',
    labels: [],
    scope: 'register',
  },
  kkt_fn_usage_percent: {
    type: 'gauge',
    help: 'How full the fiscal storage (FN) is, in percent.',
    labels: [],
    scope: 'register',
  },
  kkt_fn_expiry_timestamp_seconds: {
    type: 'gauge',
    help: 'When the fiscal storage (FN) must be replaced, as a Unix timestamp.',
    labels: [],
    scope: 'register',
  },
  kkt_fn_documents: {
    type: 'gauge',
    help: 'Fiscal documents signed by the fiscal storage (FN).',
    labels: [],
    scope: 'register',
  },
  kkt_fn_fiscalization_timestamp_seconds: {
    type: 'gauge',
    help: 'When the fiscal storage (FN) was activated (fiscalised), as a Unix timestamp.',
    labels: [],
    scope: 'register',
  },
  kkt_fn_phase: {
    type: 'gauge',
    help: 'Life phase of the fiscal storage (FN): 0 setup, 1 ready for fiscalisation, 3 fiscal mode (normal), 7 post-fiscal (closed, still sending to the OFD), 15 archive read only.',
    labels: [],
    scope: 'register',
  },
  kkt_fn_warning_flags: {
    type: 'gauge',
    help: 'Warning flags of the fiscal storage (FN), a bit mask: 1 urgent replacement (3 days left), 2 resource running out (30 days), 4 memory full (90 % in older format versions, 99 % in FFD 1.2), 8 OFD answer timeout exceeded, 16 refused by format-logical control, 32 register setup required, 64 OFD contract annulled, 128 critical FN error. kkt_fn_warning_flag has one series per flag.',
    labels: [],
    scope: 'register',
  },
  kkt_fn_warning_flag: {
    type: 'gauge',
    help: '1 if the fiscal storage (FN) raises this warning flag, 0 if not; all eight whenever the flags are read. flag: urgent_replacement (0x01, replace within 3 days), resource_exhausted (0x02, 30 days left), memory_full (0x04, 90 % or 99 % full by format version), ofd_timeout (0x08), format_error (0x10), setup_required (0x20), ofd_cancelled (0x40, OFD contract annulled), critical_error (0x80).',
    labels: ['flag'],
    scope: 'register',
  },
  kkt_shift_open: {
    type: 'gauge',
    help: '1 if a shift is open on the register, 0 if closed. A shift open for more than 24 h expires.',
    labels: [],
    scope: 'register',
  },
  kkt_shift_number: {
    type: 'gauge',
    help: 'Number of the current shift (of the last one when closed).',
    labels: [],
    scope: 'register',
  },
  kkt_shift_opened_timestamp_seconds: {
    type: 'gauge',
    help: 'When the current (or last) shift was opened, as a Unix timestamp. A shift open for more than 24 h expires and the register cannot sell until it is closed and reopened.',
    labels: [],
    scope: 'register',
  },
  kkt_shift_closed_timestamp_seconds: {
    type: 'gauge',
    help: 'When the last shift was closed, as a Unix timestamp; absent while it is open.',
    labels: [],
    scope: 'register',
  },
  kkt_shift_locked: {
    type: 'gauge',
    help: 'The Lock field of the shift\'s user as the service sends it (1 true, 0 false); the document calls it a shift lock flag and does not say what it means for the register.',
    labels: [],
    scope: 'register',
  },
  kkt_shift_balance_open: {
    type: 'gauge',
    help: 'Cash in the register when the shift was opened, in the register\'s currency (tenge for Kassa24).',
    labels: [],
    scope: 'register',
  },
  kkt_shift_balance_close: {
    type: 'gauge',
    help: 'Cash in the register when the shift was closed, in the register\'s currency (0 while open).',
    labels: [],
    scope: 'register',
  },
  kkt_shift_balance_close_non_cash: {
    type: 'gauge',
    help: 'Non-cash funds when the shift was closed, in the register\'s currency (0 while open).',
    labels: [],
    scope: 'register',
  },
  kkt_shift_receipts: {
    type: 'gauge',
    help: 'Documents in the current shift (receipts of the last one when closed).',
    labels: [],
    scope: 'register',
  },
  kkt_ofd_network_error_code: {
    type: 'gauge',
    help: 'Result of the register\'s last exchange with the OFD, in the vendor\'s codes; 0 is no error. ATOL networkErrorCode: 1 no physical link, 2 network settings or no connection to the OFD, 3 link broken while sending, 4 bad session packet header, 5 receipt wait timeout, 6 link broken while receiving the receipt, 7 send timeout, 8 OFD process not initialised. Kassa24 OfdCode (codes a public Fiscal24-style backend uses, not the vendor document): 15 register blocked, 254 OFD unavailable, 255 other error, 500 timeout.',
    labels: [],
    scope: 'register',
  },
  kkt_status_timestamp_seconds: {
    type: 'gauge',
    help: 'When the vendor formed this register\'s data, as a Unix timestamp: a value far in the past means the register stopped reporting.',
    labels: [],
    scope: 'register',
  },
  kkt_register_blocked: {
    type: 'gauge',
    help: '1 if the vendor reports the register blocked (it cannot sell), 0 if not. In Kazakhstan a register that keeps documents offline for more than 72 h is blocked.',
    labels: [],
    scope: 'register',
  },
  kkt_mcu_temperature_celsius: {
    type: 'gauge',
    help: 'Temperature of the register\'s microcontroller, in degrees Celsius.',
    labels: [],
    scope: 'register',
  },
  kkt_circuit_active: {
    type: 'gauge',
    help: '1 if the register is active in the fiscal circuit (BusinessKassa spreads fiscalisation over the active registers of a circuit), 0 if not.',
    labels: ['circuit', 'device_type'],
    scope: 'register',
  },
  kkt_receipt_open: {
    type: 'gauge',
    help: '1 if a receipt is open on the register right now, 0 if not.',
    labels: [],
    scope: 'register',
  },
  kkt_receipt_last_activity_timestamp_seconds: {
    type: 'gauge',
    help: 'Last activity in the open receipt (opened or item added), as a Unix timestamp.',
    labels: [],
    scope: 'register',
  },
  kkt_receipt_last_closed_timestamp_seconds: {
    type: 'gauge',
    help: 'When the last receipt was closed (the register is idle since), as a Unix timestamp.',
    labels: [],
    scope: 'register',
  },
  kkt_user_role_id: {
    type: 'gauge',
    help: 'Id of the user logged in on the register.',
    labels: [],
    scope: 'register',
  },
  kkt_vision_connected: {
    type: 'gauge',
    help: '1 if the register\'s link to SuperMag Vision video analytics is up, 0 if down.',
    labels: [],
    scope: 'register',
  },
  kkt_scale_weight: {
    type: 'gauge',
    help: 'Weight on the register\'s scale while no receipt is open, in kilograms; a unit the register states (g, kg) is converted, a bare number is taken as kilograms.',
    labels: [],
    scope: 'register',
  },
  ...xreportMetrics(),
} as const satisfies Record<string, ScrapeMetricDef>;

export type RegisterMetric = keyof typeof REGISTER_METRICS;

/**
 * Probe meta: per source in `/metrics`, per request in `/probe`; each endpoint's success is per
 * register, among its register's lines.
 */
export const PROBE_METRICS = {
  kkt_probe_success: {
    type: 'gauge',
    help: '1 if the source (or the probed register) was read completely, 0 if any part failed.',
    labels: ['source'],
    scope: 'source',
  },
  kkt_probe_duration_seconds: {
    type: 'gauge',
    help: 'How long reading the source (or the probed register) took.',
    labels: ['source'],
    scope: 'source',
  },
  kkt_source_up: {
    type: 'gauge',
    help: '1 if the source\'s own calls (vendor login, register list) succeeded, 0 if they failed. A source with none (UKM; Kassa24 with kkms) is 1.',
    labels: ['source'],
    scope: 'source',
  },
  kkt_source_clock_offset_seconds: {
    type: 'gauge',
    help: 'How far ahead (+) or behind (-) of the exporter\'s clock the vendor\'s offset-less times run, read in the source\'s time zone, when the whole fleet agrees on a whole number of hours (the source\'s timezone is then wrong); 0 when they look right. BusinessKassa only. The stale alerts stay silent while it is not 0.',
    labels: ['source'],
    scope: 'source',
  },
  kkt_probe_endpoint_success: {
    type: 'gauge',
    help: '1 if this vendor endpoint of this register was read in this scrape, 0 if it failed or the deadline cut it off.',
    labels: ['source', 'kkt', 'endpoint'],
    scope: 'register',
  },
} as const satisfies Record<string, ScrapeMetricDef>;

/** The exporter's own metrics, on `/metrics` only (plus the standard process_* and nodejs_* ones). */
export const SELF_METRICS = {
  kkt_exporter_build_info: {
    type: 'gauge',
    help: 'Version of the exporter and of the Node.js running it; always 1.',
    labels: ['version', 'nodejs_version'],
  },
  kkt_exporter_shard_info: {
    type: 'gauge',
    help: 'Which part of the fleet this exporter serves (--shard=K/N): shard K of N; always 1.',
    labels: ['shard', 'shards'],
  },
  kkt_exporter_config_last_reload_successful: {
    type: 'gauge',
    help: '1 if the last config (re)load succeeded, 0 if it failed and the previous config is still in use.',
    labels: [],
  },
  kkt_exporter_config_last_reload_success_timestamp_seconds: {
    type: 'gauge',
    help: 'When the config was last loaded successfully, as a Unix timestamp.',
    labels: [],
  },
  kkt_exporter_requests_total: {
    type: 'counter',
    help: 'Requests the exporter sent to vendor APIs, by source, vendor endpoint and HTTP status (or timeout, refused, reset, too_large, error).',
    labels: ['source', 'endpoint', 'code'],
  },
  kkt_exporter_request_duration_seconds: {
    type: 'histogram',
    help: 'Duration of requests to vendor APIs, including reading the body.',
    labels: ['source', 'endpoint'],
  },
  kkt_exporter_rate_limit_wait_seconds_total: {
    type: 'counter',
    help: 'Time requests spent waiting for a register\'s rate gate (at most one request per min_interval per register).',
    labels: ['source'],
  },
  kkt_exporter_auth_requests_total: {
    type: 'counter',
    help: 'Authentication (token or session) requests to vendor APIs, by result.',
    labels: ['source', 'result'],
  },
} as const satisfies Record<string, MetricDef>;

export const ALL_METRICS: Record<string, MetricDef> = { ...REGISTER_METRICS, ...PROBE_METRICS, ...SELF_METRICS };

/**
 * Every label name a family of the catalog carries: `source` and `kkt` of every register series,
 * the histograms' `le`, and each family's own. The identity labels of `kkt_info` are each vendor's.
 */
export const CATALOG_LABELS: ReadonlySet<string> = new Set(['source', 'kkt', 'le', ...Object.values(ALL_METRICS).flatMap((d) => d.labels)]);
