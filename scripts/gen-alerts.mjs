// Writes examples/alerts/kkt-alerts.yml from the thresholds in examples/alerts/thresholds.yml.
// Conventions of the monitoring mixins: CamelCase names with a Kkt prefix, severity, summary and a
// templated description naming the register, its source and the value.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const dir = new URL('../examples/alerts/', import.meta.url);
const DAY = 86400;
const HOUR = 3600;

const who = '{{ $labels.kkt }} (source {{ $labels.source }}{{ with $labels.store }}, store {{ . }}{{ end }})';

function alert(name, severity, expr, forDuration, summary, description) {
  if (!forDuration) throw new Error(`${name}: every alert needs a for: duration, so that a blip does not page`);
  return {
    alert: name,
    expr,
    ...(forDuration ? { for: forDuration } : {}),
    labels: { severity },
    annotations: { summary, description },
  };
}

/** The rule file's text for the thresholds `t` (thresholds.yml, parsed). */
export function renderAlerts(t) {
// Recorded for dashboards; the alerts use the raw expressions so that they never lag a recording.
const recording = {
  name: 'kkt.rules',
  rules: [
    { record: 'kkt:unsent_oldest_age_seconds', expr: 'time() - kkt_unsent_oldest_timestamp_seconds' },
    { record: 'kkt:fn_days_left', expr: '(kkt_fn_expiry_timestamp_seconds - time()) / 86400' },
    { record: 'kkt:shift_open_age_seconds', expr: '(time() - kkt_shift_opened_timestamp_seconds) and (kkt_shift_open == 1)' },
    { record: 'kkt:status_age_seconds', expr: 'time() - kkt_status_timestamp_seconds' },
    { record: 'source:kkt_up:sum', expr: 'sum by (job, source) (kkt_up)' },
    { record: 'source:kkt_up:count', expr: 'count by (job, source) (kkt_up)' },
  ],
};

const alerts = {
  name: 'kkt.alerts',
  rules: [
    alert('KktPaperOut', 'critical', 'kkt_paper_present == 0', t.paper_out_for,
      'Register is out of paper.',
      `Register ${who} has had no paper for more than ${t.paper_out_for}: it cannot print receipts.`),
    alert('KktUnsentDocumentsOld', 'warning', `time() - kkt_unsent_oldest_timestamp_seconds > ${t.unsent_oldest_warning_days * DAY}`, t.slow_signal_for,
      'Documents not confirmed by the OFD for days.',
      `The oldest document of register ${who} not confirmed by the OFD is {{ $value | humanizeDuration }} old. At 30 days the FN blocks the register.`),
    alert('KktUnsentDocumentsNearBlock', 'critical', `time() - kkt_unsent_oldest_timestamp_seconds > ${t.unsent_oldest_critical_days * DAY}`, t.slow_signal_for,
      'Register will be blocked: documents unsent for weeks.',
      `The oldest document of register ${who} not confirmed by the OFD is {{ $value | humanizeDuration }} old. At 30 days the FN stops signing and the register is blocked.`),
    alert('KktUnsentDocumentsPending', 'warning', 'kkt_unsent_docs > 0', t.unsent_pending_for,
      'Documents waiting for the OFD.',
      `Register ${who} has {{ $value }} documents not sent to the OFD for more than ${t.unsent_pending_for}: the OFD link is down or slow.`),
    alert('KktUnsentDocumentsGrowing', 'critical',
      `(kkt_unsent_docs - kkt_unsent_docs offset ${t.unsent_growing_window}) > 0 and min_over_time(kkt_unsent_docs[${t.unsent_growing_window}]) > 0`, t.slow_signal_for,
      'Unsent documents keep piling up.',
      `Register ${who} has had unsent documents for ${t.unsent_growing_window} and their number grew by {{ $value }}: nothing is reaching the OFD.`),
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
    alert('KktFnNotFiscal', 'critical', 'kkt_fn_phase != 3', t.fn_phase_for,
      'Fiscal storage (FN) is not in fiscal mode.',
      `The FN of register ${who} is in phase {{ $value }} (3 is fiscal mode; 7 post-fiscal, 15 archive): the register cannot fiscalise.`),
    alert('KktFnWarningFlags', 'warning', 'kkt_fn_warning_flags > 0', t.fn_flags_for,
      'Fiscal storage (FN) reports warnings.',
      `The FN of register ${who} reports warning flags {{ $value }} (1 replace urgently, 2 resource running out, 4 memory 90 % full, 8 OFD timeout, 128 critical FN error).`),
    alert('KktShiftOpenLong', 'warning',
      `(time() - kkt_shift_opened_timestamp_seconds > ${t.shift_warning_hours * HOUR}) and (time() - kkt_shift_opened_timestamp_seconds <= ${t.shift_expired_hours * HOUR}) and (kkt_shift_open == 1)`, t.shift_for,
      'Shift about to expire.',
      `The shift on register ${who} has been open for {{ $value | humanizeDuration }}; after 24 h it expires and the till cannot sell until it is closed and reopened.`),
    alert('KktShiftExpired', 'critical', `(time() - kkt_shift_opened_timestamp_seconds > ${t.shift_expired_hours * HOUR}) and (kkt_shift_open == 1)`, t.shift_for,
      'Shift expired: the till cannot sell.',
      `The shift on register ${who} has been open for {{ $value | humanizeDuration }}: it has expired. Close it (Z-report) and open a new one.`),
    alert('KktOfdNetworkError', 'warning', 'kkt_ofd_network_error_code != 0', t.ofd_error_for,
      'Register cannot reach the OFD.',
      `Register ${who} reports OFD network error code {{ $value }} (1 no physical link, 2 network settings or no connection to the OFD, 3-7 transfer broken or timed out, 8 OFD process not initialised).`),
    alert('KktDataStale', 'warning', `time() - kkt_status_timestamp_seconds > ${t.stale_warning_hours * HOUR}`, t.slow_signal_for,
      'Register has not reported to its vendor.',
      `The vendor's data for register ${who} is {{ $value | humanizeDuration }} old.`),
    alert('KktDataStaleCritical', 'critical', `time() - kkt_status_timestamp_seconds > ${t.stale_critical_hours * HOUR}`, t.slow_signal_for,
      'Register has not reported for hours.',
      `The vendor's data for register ${who} is {{ $value | humanizeDuration }} old: the register is off or has lost its link.`),
    alert('KktRegisterDown', 'warning', 'kkt_up == 0', t.register_down_warning_for,
      'Register cannot be read.',
      `Register ${who} has not been read for ${t.register_down_warning_for}: network, power or the monitoring plugin.`),
    alert('KktRegisterDownCritical', 'critical', 'kkt_up == 0', t.register_down_critical_for,
      'Register unreachable.',
      `Register ${who} has not been read for ${t.register_down_critical_for}.`),
    alert('KktVisionLinkDown', 'warning', 'kkt_vision_connected == 0', t.vision_down_for,
      'SuperMag Vision link down.',
      `Register ${who} has lost its link to SuperMag Vision video analytics.`),
    alert('KktMcuHot', 'warning', `kkt_mcu_temperature_celsius > ${t.mcu_temperature_celsius}`, t.mcu_temperature_for,
      'Register microcontroller running hot.',
      `The microcontroller of register ${who} is at {{ $value }} °C.`),
    alert('KktSourceFailing', 'warning', 'kkt_probe_success == 0', t.source_failing_for,
      'A register source is failing.',
      'Source {{ $labels.source }} (exporter {{ $labels.instance }}) has not been read completely for ' + t.source_failing_for + ': see the exporter log and kkt_up.'),
    alert('KktSourceWrongCredentials', 'critical', 'increase(kkt_exporter_auth_requests_total{result="wrong_credentials"}[5m]) > 0', t.wrong_credentials_for,
      'Vendor refuses the exporter\'s credentials.',
      'Source {{ $labels.source }} (exporter {{ $labels.instance }}): the vendor refused the login or session. No register of this source is being read.'),
    alert('KktExporterDown', 'critical', 'up{job=~"kkt.*"} == 0', t.exporter_down_for,
      'kkt-exporter is down.',
      'Prometheus cannot scrape kkt-exporter {{ $labels.instance }} (job {{ $labels.job }}).'),
    alert('KktExporterConfigReloadFailed', 'warning', 'kkt_exporter_config_last_reload_successful == 0', t.reload_failed_for,
      'kkt-exporter config reload failed.',
      'kkt-exporter {{ $labels.instance }} could not load its new config and is running the previous one: run kkt-exporter --config.check.'),
  ],
};

const header = '# Generated by scripts/gen-alerts.mjs from thresholds.yml: edit thresholds.yml, then `npm run rules`.\n';
return header + stringify({ groups: [recording, alerts] }, { lineWidth: 0 });
}

export const THRESHOLDS_FILE = new URL('thresholds.yml', dir);
export const RULES_FILE = new URL('kkt-alerts.yml', dir);

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(RULES_FILE, renderAlerts(parse(readFileSync(THRESHOLDS_FILE, 'utf8'))));
}
