// Writes examples/alerts/kkt-alerts.yml, and the problem table of the Grafana dashboard
// (scripts/gen-dashboard.mjs), from the thresholds in examples/alerts/thresholds.yml (`npm run rules`).
// The package ships it: `kkt-exporter rules` (src/rules.ts) renders the rules for any thresholds file.
// Conventions of the monitoring mixins: CamelCase names with a Kkt prefix, severity, summary, a
// templated description naming the register, its source and the value, and a runbook_url pointing at
// the alert's section of docs/alerts.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { writeDashboard } from './gen-dashboard.mjs';

const dir = new URL('../examples/alerts/', import.meta.url);
const DAY = 86400;
const HOUR = 3600;

/** The labels that identify one register's series of one scrape (its static labels ride along). */
const REGISTER = 'on(job, instance, source, kkt)';
const days = (n) => `${n} day${n === 1 ? '' : 's'}`;
/** The legal clocks the time to block counts (54-FZ; Kazakhstan's Tax Code for the 72 h offline). */
const OFD_BLOCK_DAYS = 30;
const KZ_OFFLINE_BLOCK_HOURS = 72;
const SHIFT_BLOCK_HOURS = 24;

/** The reasons of kkt:block_timestamp_seconds, in words (KktBlocksSoon's description, the dashboard). */
const BLOCK_REASONS = {
  ofd_30_days: `its oldest document not confirmed by the OFD reaches ${OFD_BLOCK_DAYS} days (the FN stops signing)`,
  kz_offline_72h: `its documents kept offline reach ${KZ_OFFLINE_BLOCK_HOURS} h (Kazakhstan)`,
  shift_24h: `its shift reaches ${SHIFT_BLOCK_HOURS} h (expired: no sale until it is closed and reopened)`,
  fn_expiry: 'its FN expires',
  fn_full: 'its FN is full at its fill rate of the last week',
};

/**
 * The FN warning flags (the `flag` label of kkt_fn_warning_flag): what each means for the register.
 * Their severities live in thresholds.yml (fn_flag_severity); test/rules.test.ts checks that its
 * keys are exactly FN_WARNING_FLAGS of src/readings/catalog.ts.
 */
const FN_FLAG_TEXT = {
  urgent_replacement: ['Fiscal storage (FN) must be replaced within 3 days.', 'has at most 3 days of life left: replace it now; an expired FN blocks the register.'],
  resource_exhausted: ['Fiscal storage (FN) resource runs out within 30 days.', 'has at most 30 days of life left: plan its replacement.'],
  memory_full: ['Fiscal storage (FN) memory almost full.', 'is almost full (90 % or 99 %, by format version): plan its replacement; a full FN blocks the register.'],
  ofd_timeout: ['OFD answer timeout exceeded.', 'has waited too long for the OFD to confirm documents: check the register\'s internet link and the OFD.'],
  format_error: ['OFD refused a document (format-logical control).', 'reports a document refused by the OFD\'s format-logical control: check the register\'s firmware and FFD settings with the OFD.'],
  setup_required: ['Register setup required.', 'requests that the register be set up again (re-registration): call the service engineer.'],
  ofd_cancelled: ['OFD contract annulled.', 'reports the OFD contract annulled: documents reach no OFD; renew the contract or re-register with another OFD.'],
  critical_error: ['Critical fiscal storage (FN) error.', 'reports a critical error: the register may stop fiscalising; call the service engineer, the FN may need replacing.'],
};

/** urgent_replacement -> KktFnFlagUrgentReplacement */
const flagAlertName = (flag) => `KktFnFlag${flag.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;

/** The thresholds, any key read that the file lacks an Error: not an `undefined` inside a rule. */
function requireKeys(thresholds) {
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) throw new Error('the thresholds must be a YAML mapping');
  return new Proxy(thresholds, {
    get(target, key) {
      if (typeof key === 'string' && !Object.hasOwn(target, key)) throw new Error(`${key} is missing`);
      return target[key];
    },
  });
}

/** The rule file's text for the thresholds (thresholds.yml, parsed). */
export function renderAlerts(thresholds) {
const t = requireKeys(thresholds);
const runbook = t.runbook_base_url;
// Alertmanager shows an annotation as it is: a relative link would not resolve in a notification.
if (!/^https?:\/\/[^#]+$/.test(runbook ?? '')) throw new Error(`runbook_base_url must be an absolute http(s) URL without an anchor, not ${runbook}`);
const store = t.store_label;
if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(store ?? '')) throw new Error(`store_label must be a Prometheus label name, not ${store}`);
const who = `{{ $labels.kkt }} (source {{ $labels.source }}{{ with $labels.${store} }}, ${store} {{ . }}{{ end }})`;

function alert(name, severity, expr, forDuration, summary, description) {
  if (!forDuration) throw new Error(`${name}: every alert needs a for: duration, so that a blip does not page`);
  return {
    alert: name,
    expr,
    ...(forDuration ? { for: forDuration } : {}),
    labels: { severity },
    // GitHub turns the heading `## KktPaperOut` of docs/alerts.md into the anchor #kktpaperout.
    annotations: { summary, description, runbook_url: `${runbook}#${name.toLowerCase()}` },
  };
}

// "Held for a window" without a long `for:`. A `for:` restarts whenever one evaluation finds no
// sample (a failed scrape, a vendor page that timed out, a till switched off overnight), so a `for:`
// of a day or more would rarely fire at all. Instead: the value was above 0 at every reading inside
// the window and at the last reading before it (looked for up to held_lookback earlier), so a gap in
// the readings neither restarts the clock nor fires early on a register, or a Prometheus, that has
// less history than the window. A reading of 0 anywhere in the window clears it at once. The price:
// each evaluation reads window + held_lookback of samples per series (3.5 days for a 3-day window).
const held = (metric, window) =>
  `(min_over_time(${metric}[${window}]) > 0 and last_over_time(${metric}[${t.held_lookback}] offset ${window}) > 0)`;

// The register kinds, told apart by their kkt_info labels (only Kassa24 sets id_kkm, only UKM sets
// url: README's metric table; and the config refuses a static label of either name). Over the
// window, not at this instant, so that one failed read of kkt_info does not restart a held alert.
const kassa24 = (window) => `${REGISTER} present_over_time(kkt_info{id_kkm!=""}[${window}])`;
// UKM unsent receipts: selected positively by kkt_info{url!=""} rather than "kkt_unsent_docs unless
// kkt_unsent_oldest_timestamp_seconds, minus Kassa24": that one would also page for every ATOL or
// BusinessKassa read that lacks the oldest document's time (the series is absent on a failed read,
// and a vendor may leave the field out), on top of KktUnsentDocumentsOld for the same documents, and
// it needs a Kassa24 exclusion besides. Registers that report the age are covered by
// KktUnsentDocumentsOld / KktUnsentDocumentsNearBlock; Kassa24 by KktOfflineDocuments*.
const ukm = (window) => `${REGISTER} present_over_time(kkt_info{url!=""}[${window}])`;

// Trading hours (kkt_trading, 1 inside, 0 outside, 1 when none are set). The alerts for
// what is normal in a closed store (a till switched off, no paper, stale data, a shift left open)
// are silent until the register has been inside its hours at every reading of the last
// opening_grace: a till still down that long after opening pages (after its own for:). A register
// whose exporter predates the gauge has none: it is always trading, as before. The legal clocks
// (unsent documents, FN, Kazakh offline, blocked, OFD) run while the store is closed: never gated.
const closed = `unless ${REGISTER} (min_over_time(kkt_trading[${t.opening_grace}]) == 0)`;
// A source is closed only when every register it knows is: a source with no known register pages.
const SOURCE = 'on(job, instance, source)';
const sourceClosed = `unless ${SOURCE} (max by (job, instance, source) (min_over_time(kkt_trading[${t.opening_grace}])) == 0)`;
// A store is closed when every register of it is (the store label spans sources and targets).
const storeClosed = `unless on(${store}) (max by (${store}) (min_over_time(kkt_trading{${store}!=""}[${t.opening_grace}])) == 0)`;
// A source whose offset-less vendor times run whole hours off (a wrong `timezone`) makes its whole
// fleet look stale at once: the landing page and the log say so, the stale alerts do not page.
const clockWrong = `unless ${SOURCE} (kkt_source_clock_offset_seconds != 0)`;

// Shift open past 23 h / 24 h where the vendor gives no opening time: the shift was open at every
// reading of the window and at the last reading before it. Registers that report
// kkt_shift_opened_timestamp_seconds anywhere in the window are left to KktShiftOpenLong and
// KktShiftExpired.
const shiftHeldOpen = (w) => `(${held('kkt_shift_open', w)} unless ${REGISTER} present_over_time(kkt_shift_opened_timestamp_seconds[${w}]))`;
// ATOL gives the shift number: its number did not change inside the window nor across its start (a
// shift closed and reopened between two readings, or during a gap in the readings, has a new
// number), so this is the same shift: critical at 24 h.
const sameShiftHeld = (hours) => {
  const w = `${hours}h`;
  return `${shiftHeldOpen(w)} and ${REGISTER} present_over_time(kkt_shift_number[${w}])`
    + ` unless ${REGISTER} (changes(kkt_shift_number[${w}]) > 0 or min_over_time(kkt_shift_number[${w}]) != last_over_time(kkt_shift_number[${t.held_lookback}] offset ${w}))`;
};
// BusinessKassa gives neither the opening time nor a number: a shift closed and reopened between
// two readings (a service that does so daily) looks like one long shift. A heuristic: a warning.
const unnumberedShiftHeld = (hours) => {
  const w = `${hours}h`;
  return `${shiftHeldOpen(w)} unless ${REGISTER} present_over_time(kkt_shift_number[${w}])`;
};

// The exporter process behind a target: the `exporter` target label prometheus.yml.example sets in
// every kkt job, else (an older scrape config) the instance.
const exporterUp = 'up{job=~"kkt.*", exporter!=""} or label_replace(up{job=~"kkt.*", exporter=""}, "exporter", "$1", "instance", "(.*)")';

// The endpoints whose failure leaves a legal alert blind, and what it cannot see meanwhile.
const BLIND = {
  paper: 'KktPaperOut cannot see the paper meanwhile.',
  ofd: 'The unsent-documents alerts (KktUnsentDocumentsPending, KktUnsentDocumentsGrowing, KktUnsentDocumentsStuck) cannot see the documents waiting for the OFD meanwhile; at 30 days unsent the FN blocks the register.',
  shift: 'KktShiftOpenLong, KktShiftExpired and the time to block of its shift (KktBlocksSoon) cannot see the shift meanwhile.',
};
const blindText = Object.entries(BLIND).map(([endpoint, text], i) => `{{ ${i ? 'else ' : ''}if eq $labels.endpoint "${endpoint}" }} ${text}`).join('') + '{{ end }}';

// Time to block: one series per register and reason, the moment the register will be blocked. The
// reason is a rule label, not a label_replace: promtool's lint tells rules apart by their labels.
const blockAt = (reason, expr) => ({ record: 'kkt:block_timestamp_seconds', expr, labels: { reason } });

// A shift's age, and where it comes from (label `opened`): `vendor`, the opening time Kassa24 gives;
// `first_seen`, for ATOL, which gives the shift's number only: the first evaluation (5-minute steps)
// at which this number was seen open (a shift closed and reopened has a new number);
// `last_seen_closed`, for BusinessKassa, which gives neither: the last evaluation that saw it closed,
// else the first reading in the window, so a shift closed and reopened between two readings looks
// like one (as KktShiftPossiblyExpired says). Both look back SHIFT_SEEN_WINDOW, an hour past expiry:
// an age of that many hours means "at least". The reading of this evaluation counts too, so that a
// shift first seen since the last 5-minute step has an age (0) rather than none.
const thisShiftOpen = `timestamp(kkt_shift_number == ${REGISTER} kkt_shift_number @ end() and ${REGISTER} kkt_shift_open == 1)`;
const SHIFT_SEEN_WINDOW = `${SHIFT_BLOCK_HOURS + 1}h`;
const shiftAge = (opened, expr) => ({ record: 'kkt:shift_open_age_seconds', expr, labels: { opened } });
const reasonText = Object.entries(BLOCK_REASONS).map(([reason, text], i) => `{{ ${i ? 'else ' : ''}if eq $labels.reason "${reason}" }}${text}`).join('') + '{{ else }}{{ $labels.reason }}{{ end }}';

const flags = Object.entries(t.fn_flag_severity);
for (const [flag, severity] of flags) {
  if (!FN_FLAG_TEXT[flag]) throw new Error(`fn_flag_severity: unknown FN flag ${flag} (known: ${Object.keys(FN_FLAG_TEXT).join(', ')})`);
  if (!['critical', 'warning', 'info'].includes(severity)) throw new Error(`fn_flag_severity.${flag}: ${severity} is not critical, warning or info`);
}
for (const flag of Object.keys(FN_FLAG_TEXT)) if (!t.fn_flag_severity?.[flag]) throw new Error(`fn_flag_severity: no severity for the FN flag ${flag}`);

// Phases of kkt_fn_phase that are not fiscal mode (3) but do not page either.
const phasesNotPaged = t.fn_phase_not_paged;

// Recorded for the dashboard (examples/grafana/kkt-overview.json: its problem table, the fleet stats
// and bar gauges, the drill-down), which reads one recorded series per source instead of every
// register for the fleet stats; test/deploy.test.ts checks that every one is used. The alerts use the
// raw expressions so that they never lag a recording, except KktBlocksSoon: the earliest of the
// reasons is a recording, and one evaluation of lag does not matter at hours.
const recording = {
  name: 'kkt.rules',
  rules: [
    { record: 'kkt:unsent_oldest_age_seconds', expr: 'time() - kkt_unsent_oldest_timestamp_seconds' },
    { record: 'kkt:fn_days_left', expr: '(kkt_fn_expiry_timestamp_seconds - time()) / 86400' },
    // How long the open shift has been open, for every vendor that reports an open shift (shiftAge).
    shiftAge('vendor', '(time() - kkt_shift_opened_timestamp_seconds) and (kkt_shift_open == 1)'),
    shiftAge('first_seen', `(time() - (min_over_time(${thisShiftOpen}[${SHIFT_SEEN_WINDOW}:5m]) or ${thisShiftOpen}))`
      + ` and ${REGISTER} (kkt_shift_open == 1) unless ${REGISTER} kkt_shift_opened_timestamp_seconds`),
    shiftAge('last_seen_closed', `(time() - (max_over_time(timestamp(kkt_shift_open == 0)[${SHIFT_SEEN_WINDOW}:5m])`
      + ` or min_over_time(timestamp(kkt_shift_open)[${SHIFT_SEEN_WINDOW}:5m]) or timestamp(kkt_shift_open)))`
      + ` and ${REGISTER} (kkt_shift_open == 1) unless ${REGISTER} kkt_shift_number unless ${REGISTER} kkt_shift_opened_timestamp_seconds`),
    { record: 'kkt:status_age_seconds', expr: 'time() - kkt_status_timestamp_seconds' },
    { record: 'source:kkt_up:sum', expr: 'sum by (job, source) (kkt_up)' },
    { record: 'source:kkt_up:count', expr: 'count by (job, source) (kkt_up)' },
    // The scrape targets of each exporter process that reach this Prometheus: KktExporterSilent
    // compares it with the last day's (one series per exporter, cheap over a day).
    { record: 'exporter:kkt_scrape_targets:count', expr: `count by (exporter) (${exporterUp})` },
    // Time to block, per register and reason (BLOCK_REASONS): the moment the register will be
    // blocked if nothing is done.
    blockAt('ofd_30_days', `kkt_unsent_oldest_timestamp_seconds + ${OFD_BLOCK_DAYS * DAY}`),
    // Kassa24 gives the offline queue's length, not the time of its oldest document: the clock runs
    // from the last evaluation (5-minute steps) at which the queue was seen empty within the last
    // 72 h. Where Prometheus has not seen it empty in 72 h (a register offline since before its
    // history starts) there is no figure; KktOfflineDocuments* and KktRegisterBlocked still speak.
    blockAt('kz_offline_72h', `(max_over_time(timestamp(kkt_unsent_docs == 0)[${KZ_OFFLINE_BLOCK_HOURS}h:5m]) + ${KZ_OFFLINE_BLOCK_HOURS * HOUR})`
      + ` and ${REGISTER} (kkt_unsent_docs > 0) and ${kassa24('5m')}`),
    blockAt('shift_24h', `(kkt_shift_opened_timestamp_seconds + ${SHIFT_BLOCK_HOURS * HOUR}) and ${REGISTER} (kkt_shift_open == 1)`),
    blockAt('fn_expiry', 'kkt_fn_expiry_timestamp_seconds'),
    // At the fill rate of the last week (linear regression), only while the FN is filling.
    blockAt('fn_full', 'time() + (100 - predict_linear(kkt_fn_usage_percent[1w], 0)) / (deriv(kkt_fn_usage_percent[1w]) > 0)'),
    // The soonest of them, with its reason (after them: the group evaluates its rules in order).
    { record: 'kkt:block_timestamp_seconds:earliest', expr: 'bottomk by (job, instance, source, kkt) (1, kkt:block_timestamp_seconds)' },
  ],
};

const alerts = {
  name: 'kkt.alerts',
  rules: [
    alert('KktPaperOut', 'critical', `kkt_paper_present == 0 ${closed}`, t.paper_out_for,
      'Register is out of paper.',
      `Register ${who} has had no paper for more than ${t.paper_out_for}: it cannot print receipts.`),
    alert('KktUnsentDocumentsOld', 'warning', `time() - kkt_unsent_oldest_timestamp_seconds > ${t.unsent_oldest_warning_days * DAY}`, t.slow_signal_for,
      'Documents not confirmed by the OFD for days.',
      `The oldest document of register ${who} not confirmed by the OFD is {{ $value | humanizeDuration }} old. At 30 days the FN blocks the register.`),
    alert('KktUnsentDocumentsNearBlock', 'critical', `time() - kkt_unsent_oldest_timestamp_seconds > ${t.unsent_oldest_critical_days * DAY}`, t.slow_signal_for,
      'Register will be blocked: documents unsent for weeks.',
      `The oldest document of register ${who} not confirmed by the OFD is {{ $value | humanizeDuration }} old. At 30 days the FN stops signing and the register is blocked.`),
    // Russian sources only: Kassa24's OfflineQueue is Kazakhstan's legal offline mode (72 h), which
    // KktOfflineDocuments* watch.
    alert('KktUnsentDocumentsPending', 'warning', `kkt_unsent_docs > 0 unless ${kassa24(t.unsent_pending_for)}`, t.unsent_pending_for,
      'Documents waiting for the OFD.',
      `Register ${who} has {{ $value }} documents not sent to the OFD for more than ${t.unsent_pending_for}: the OFD link is down or slow.`),
    alert('KktUnsentDocumentsGrowing', 'critical',
      `(kkt_unsent_docs - kkt_unsent_docs offset ${t.unsent_growing_window}) > 0 and min_over_time(kkt_unsent_docs[${t.unsent_growing_window}]) > 0 unless ${kassa24(t.unsent_growing_window)}`, t.slow_signal_for,
      'Unsent documents keep piling up.',
      `Register ${who} has had unsent documents for ${t.unsent_growing_window} and their number grew by {{ $value }}: nothing is reaching the OFD.`),
    // UKM gives the count of unsent receipts but not their age: a count that stays above 0 for days
    // stands in for the 30-day clock of KktUnsentDocumentsOld.
    alert('KktUnsentDocumentsStuck', 'warning',
      `${held('kkt_unsent_docs', `${t.ukm_unsent_warning_days}d`)} and ${ukm(`${t.ukm_unsent_warning_days}d`)}`, t.slow_signal_for,
      `Receipts not sent to the OFD for ${days(t.ukm_unsent_warning_days)}.`,
      `Register ${who} has had receipts not sent to the OFD at every reading for more than ${days(t.ukm_unsent_warning_days)} (at least {{ $value }}). UKM does not give their age; at 30 days unsent the FN blocks the register.`),
    alert('KktUnsentDocumentsStuckCritical', 'critical',
      `${held('kkt_unsent_docs', `${t.ukm_unsent_critical_days}d`)} and ${ukm(`${t.ukm_unsent_critical_days}d`)}`, t.slow_signal_for,
      `Receipts not sent to the OFD for ${days(t.ukm_unsent_critical_days)}.`,
      `Register ${who} has had receipts not sent to the OFD at every reading for more than ${days(t.ukm_unsent_critical_days)} (at least {{ $value }}): nothing reaches the OFD. At 30 days unsent the FN blocks the register.`),
    // Kazakhstan (Kassa24 OfflineQueue): a register that keeps documents offline for 72 h is blocked.
    alert('KktOfflineDocuments', 'warning',
      `${held('kkt_unsent_docs', `${t.offline_docs_warning_hours}h`)} and ${kassa24(`${t.offline_docs_warning_hours}h`)}`, t.slow_signal_for,
      `Register keeps documents offline for ${t.offline_docs_warning_hours} h.`,
      `Register ${who} has kept documents offline (not sent to the OFD) at every reading for more than ${t.offline_docs_warning_hours} h (at least {{ $value }}). After 72 h offline the register is blocked.`),
    alert('KktOfflineDocumentsNearBlock', 'critical',
      `${held('kkt_unsent_docs', `${t.offline_docs_critical_hours}h`)} and ${kassa24(`${t.offline_docs_critical_hours}h`)}`, t.slow_signal_for,
      `Register will be blocked: documents offline for ${t.offline_docs_critical_hours} h.`,
      `Register ${who} has kept documents offline (not sent to the OFD) at every reading for more than ${t.offline_docs_critical_hours} h (at least {{ $value }}). At 72 h offline the register is blocked: restore its internet link today.`),
    alert('KktRegisterBlocked', 'critical', 'kkt_register_blocked == 1', t.register_blocked_for,
      'Register blocked: the till cannot sell.',
      `The vendor reports register ${who} blocked (Kassa24: IdStatusKkm 3, or the answer "касса заблокирована"): it cannot sell. In Kazakhstan documents kept offline for more than 72 h block a register.`),
    // Once the moment is past, the alert of that reason speaks (KktShiftExpired, KktFnNotFiscal, ...).
    alert('KktBlocksSoon', 'critical', `(kkt:block_timestamp_seconds:earliest - time() < ${t.block_soon_hours * HOUR}) > 0 ${closed}`, t.block_soon_for,
      `Register will be blocked within ${t.block_soon_hours} h.`,
      `Register ${who} will be blocked in {{ $value | humanizeDuration }}: ${reasonText}.`),
    alert('KktFnExpiringSoon', 'warning', `(kkt_fn_expiry_timestamp_seconds - time()) / 86400 < ${t.fn_expiry_warning_days}`, t.slow_signal_for,
      'Fiscal storage (FN) expires within a month.',
      `The FN of register ${who} must be replaced in {{ $value | printf "%.0f" }} days: plan the visit.`),
    alert('KktFnExpiringCritical', 'critical', `(kkt_fn_expiry_timestamp_seconds - time()) / 86400 < ${t.fn_expiry_critical_days}`, t.slow_signal_for,
      'Fiscal storage (FN) expires within a week.',
      `The FN of register ${who} expires in {{ $value | printf "%.1f" }} days; an expired FN blocks the register.`),
    alert('KktFnAlmostFull', 'warning', `kkt_fn_usage_percent >= ${t.fn_usage_warning_percent}`, t.slow_signal_for,
      'Fiscal storage (FN) is filling up.',
      `The FN of register ${who} is {{ $value }} % full.`),
    alert('KktFnFull', 'critical', `kkt_fn_usage_percent >= ${t.fn_usage_critical_percent}`, t.slow_signal_for,
      'Fiscal storage (FN) is nearly full.',
      `The FN of register ${who} is {{ $value }} % full; a full FN blocks the register.`),
    // Phase 1 (ready for fiscalisation) is a spare register, or a new FN, never fiscalised: it does
    // not page (fn_phase_not_paged). 0 setup, 7 post-fiscal and 15 archive do: a register in service
    // whose FN is there cannot fiscalise.
    alert('KktFnNotFiscal', 'critical', ['kkt_fn_phase != 3', ...phasesNotPaged.map((p) => `kkt_fn_phase != ${p}`)].join(' and '), t.fn_phase_for,
      'Fiscal storage (FN) is not in fiscal mode.',
      `The FN of register ${who} is in phase {{ $value }} (3 is fiscal mode; 0 setup, 7 post-fiscal, 15 archive): the register cannot fiscalise.`
        + (phasesNotPaged.length ? ` Phase ${phasesNotPaged.join(', ')} (ready for fiscalisation: a spare never fiscalised) does not page.` : '')),
    // One alert per FN warning flag, each with its own severity (thresholds.yml fn_flag_severity). They
    // replace KktFnWarningFlags (kkt_fn_warning_flags > 0), which would page a second time for the
    // same flags; the bit-mask metric stays for dashboards.
    ...flags.map(([flag, severity]) => {
      const [summary, what] = FN_FLAG_TEXT[flag];
      return alert(flagAlertName(flag), severity, `kkt_fn_warning_flag{flag="${flag}"} == 1`, t.fn_flags_for,
        summary,
        `The FN of register ${who} ${what}`);
    }),
    alert('KktShiftOpenLong', 'warning',
      `(time() - kkt_shift_opened_timestamp_seconds > ${t.shift_warning_hours * HOUR}) and (time() - kkt_shift_opened_timestamp_seconds <= ${t.shift_expired_hours * HOUR}) and (kkt_shift_open == 1) ${closed}`, t.shift_for,
      'Shift about to expire.',
      `The shift on register ${who} has been open for {{ $value | humanizeDuration }}; after 24 h it expires and the till cannot sell until it is closed and reopened.`),
    alert('KktShiftExpired', 'critical', `(time() - kkt_shift_opened_timestamp_seconds > ${t.shift_expired_hours * HOUR}) and (kkt_shift_open == 1) ${closed}`, t.shift_for,
      'Shift expired: the till cannot sell.',
      `The shift on register ${who} has been open for {{ $value | humanizeDuration }}: it has expired. Close it (Z-report) and open a new one.`),
    alert('KktShiftOpenLongNoTimestamp', 'warning', `${sameShiftHeld(t.shift_warning_hours)} ${closed}`, t.shift_for,
      'Shift about to expire.',
      `The same shift on register ${who} has been seen open for more than ${t.shift_warning_hours} h (the vendor gives no opening time); after 24 h it expires and the till cannot sell until it is closed and reopened.`),
    alert('KktShiftExpiredNoTimestamp', 'critical', `${sameShiftHeld(t.shift_expired_hours)} ${closed}`, t.shift_for,
      'Shift expired: the till cannot sell.',
      `The same shift on register ${who} has been seen open for more than ${t.shift_expired_hours} h (the vendor gives no opening time): it has expired. Close it (Z-report) and open a new one.`),
    alert('KktShiftPossiblyExpired', 'warning', `${unnumberedShiftHeld(t.shift_expired_hours)} ${closed}`, t.shift_for,
      'Shift may have expired.',
      `A shift on register ${who} has been seen open at every reading for more than ${t.shift_expired_hours} h. The vendor gives neither its opening time nor its number, so this cannot tell one long shift (expired: the till cannot sell until it is closed and reopened) from a shift closed and reopened between two readings, as a service that closes and reopens its shift daily does: check the register's last Z-report.`),
    // ATOL networkErrorCode and Kassa24 OfdCode share the metric; each vendor's codes mean their own.
    alert('KktOfdNetworkError', 'warning', 'kkt_ofd_network_error_code != 0', t.ofd_error_for,
      'Register cannot reach the OFD.',
      `Register ${who} reports OFD error code {{ $value }}. ATOL (networkErrorCode): 1 no physical link, 2 network settings or no connection to the OFD, 3-7 transfer broken or timed out, 8 OFD process not initialised. Kassa24 (OfdCode, the result of the register's last exchange with the OFD, 0 ok): a public Fiscal24-style backend uses 15 blocked, 254 OFD unavailable, 255 other error, 500 timeout.`),
    alert('KktOfdLinkLost', 'critical',
      `(kkt_ofd_network_error_code != 0) and ${REGISTER} (time() - kkt_unsent_oldest_timestamp_seconds > ${t.ofd_link_lost_unsent_hours * HOUR})`, t.ofd_error_for,
      `OFD link lost: documents unsent for over ${t.ofd_link_lost_unsent_hours} h.`,
      `Register ${who} reports OFD network error code {{ $value }} and its oldest document not confirmed by the OFD is more than ${t.ofd_link_lost_unsent_hours} h old: the link is down, not slow. At 30 days unsent the FN blocks the register.`),
    alert('KktDataStale', 'warning', `time() - kkt_status_timestamp_seconds > ${t.stale_warning_hours * HOUR} ${closed} ${clockWrong}`, t.slow_signal_for,
      'Register has not reported to its vendor.',
      `The vendor's data for register ${who} is {{ $value | humanizeDuration }} old.`),
    alert('KktDataStaleCritical', 'critical', `time() - kkt_status_timestamp_seconds > ${t.stale_critical_hours * HOUR} ${closed} ${clockWrong}`, t.slow_signal_for,
      'Register has not reported for hours.',
      `The vendor's data for register ${who} is {{ $value | humanizeDuration }} old: the register is off or has lost its link.`),
    alert('KktRegisterDown', 'warning', `kkt_up == 0 ${closed}`, t.register_down_warning_for,
      'Register cannot be read.',
      `Register ${who} has not been read for ${t.register_down_warning_for}: network, power or the monitoring plugin.`),
    alert('KktRegisterDownCritical', 'critical', `kkt_up == 0 ${closed}`, t.register_down_critical_for,
      'Register unreachable.',
      `Register ${who} has not been read for ${t.register_down_critical_for}.`),
    // Every register of a store down at once: the store's link or power, one alert (Alertmanager's
    // example config inhibits the per-register alerts of that store). The value: how many are down.
    alert('KktStoreUnreachable', 'critical',
      `(count by (${store}) (kkt_up{${store}!=""} == 0) >= ${t.store_min_registers}) unless on(${store}) (kkt_up{${store}!=""} == 1) ${storeClosed}`, t.store_down_for,
      'No register of the store can be read.',
      `Every register of ${store} {{ $labels.${store} }} ({{ $value }}) has been unreadable for ${t.store_down_for}: the store's network or power, not one till.`),
    // A vendor call of a register that is otherwise read. X-reports are left out: the vendor may
    // refuse one to a monitoring login by design, and the exporter takes them rarely (cached).
    alert('KktEndpointFailing', 'warning',
      `(kkt_probe_endpoint_success{endpoint!="xreport"} == 0) and ${REGISTER} (kkt_up == 1) unless ${REGISTER} (kkt_register_blocked == 1) ${closed}`, t.endpoint_failing_for,
      'A vendor call of a register keeps failing.',
      `Register ${who}: the call {{ $labels.endpoint }} has failed at every read for ${t.endpoint_failing_for} while the rest of the register is read.${blindText}`),
    alert('KktVisionLinkDown', 'warning', `kkt_vision_connected == 0 ${closed}`, t.vision_down_for,
      'SuperMag Vision link down.',
      `Register ${who} has lost its link to SuperMag Vision video analytics.`),
    alert('KktMcuHot', 'warning', `kkt_mcu_temperature_celsius > ${t.mcu_temperature_celsius}`, t.mcu_temperature_for,
      'Register microcontroller running hot.',
      `The microcontroller of register ${who} is at {{ $value }} °C.`),
    // The source's own calls (login, register list), not its registers one by one (kkt_up).
    alert('KktSourceFailing', 'warning', `kkt_source_up == 0 ${sourceClosed}`, t.source_failing_for,
      'A register source is failing.',
      'Source {{ $labels.source }} (exporter {{ with $labels.exporter }}{{ . }}{{ else }}{{ $labels.instance }}{{ end }}): the vendor login or register list has failed for ' + t.source_failing_for + ': none of its registers is read. See the exporter log.'),
    alert('KktSourceWrongCredentials', 'critical', 'increase(kkt_exporter_auth_requests_total{result="wrong_credentials"}[5m]) > 0', t.wrong_credentials_for,
      'Vendor refuses the exporter\'s credentials.',
      'Source {{ $labels.source }} (exporter {{ $labels.instance }}): the vendor refused the login or session. No register of this source is being read.'),
    // One alert per exporter process, however many /probe targets it serves; the value: how many of
    // its targets are down (all of them).
    alert('KktExporterDown', 'critical', `count by (exporter) ((${exporterUp}) == 0) unless on(exporter) ((${exporterUp}) == 1)`, t.exporter_down_for,
      'kkt-exporter is down.',
      'Prometheus cannot scrape kkt-exporter {{ $labels.exporter }}: all its scrape targets (/metrics and /probe: {{ $value }}) are down.'),
    // KktExporterDown needs the exporter's `up` series: when the Prometheus agent that scrapes it (or
    // its remote write, or its region's link) is down, nothing arrives and no rule of its registers
    // can fire. Its series were here within the last day and are not now.
    alert('KktExporterSilent', 'critical', 'max_over_time(exporter:kkt_scrape_targets:count[1d]) unless exporter:kkt_scrape_targets:count', t.exporter_down_for,
      'No series of a kkt-exporter arrive.',
      `No series of kkt-exporter {{ $labels.exporter }} have reached this Prometheus for ${t.exporter_down_for} (it had {{ $value }} scrape targets within the last day): the Prometheus (agent) that scrapes it, its remote write or its region's link is down, or its scrape job was removed. No register alert of that exporter can fire meanwhile.`),
    alert('KktExporterConfigReloadFailed', 'warning', 'kkt_exporter_config_last_reload_successful == 0', t.reload_failed_for,
      'kkt-exporter config reload failed.',
      'kkt-exporter {{ $labels.instance }} could not load its new config and is running the previous one: run kkt-exporter --config.check.'),
  ],
};

const header = '# Generated from thresholds.yml by `kkt-exporter rules` (scripts/gen-alerts.mjs; in a clone, `npm run rules`): edit thresholds.yml and regenerate.\n';
return header + stringify({ groups: [recording, alerts] }, { lineWidth: 0 });
}

export const THRESHOLDS_FILE = new URL('thresholds.yml', dir);
export const RULES_FILE = new URL('kkt-alerts.yml', dir);

if (import.meta.url === `file://${process.argv[1]}`) {
  const thresholds = parse(readFileSync(THRESHOLDS_FILE, 'utf8'));
  writeFileSync(RULES_FILE, renderAlerts(thresholds));
  // The dashboard's problem table lists a register at the thresholds of its warning alert.
  writeDashboard(thresholds);
}
