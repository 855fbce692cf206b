// Writes the queries of the problem table ("Registers that need attention") of
// examples/grafana/kkt-overview.json from examples/alerts/thresholds.yml, so that the table lists a
// register at the same threshold as its warning alert fires (run by `npm run rules`, through
// scripts/gen-alerts.mjs), and the query and colour thresholds of the "Time to block" table (red
// where KktBlocksSoon fires). Only those panels' targets, the list of value columns the problem
// table hides and the time-to-block thresholds are generated; the rest of the dashboard is edited by
// hand (or in Grafana, then exported).
// The ages and days come from the recording rules of kkt-alerts.yml (kkt:fn_days_left, ...).
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

export const DASHBOARD_FILE = new URL('../examples/grafana/kkt-overview.json', import.meta.url);
export const PROBLEM_TABLE = 'Registers that need attention';
export const TIME_TO_BLOCK_TABLE = 'Time to block';

const F = 'job=~"$job", source=~"$source"';
const days = (n) => `${n} day${n === 1 ? '' : 's'}`;

/**
 * [problem shown in the table, PromQL whose value is in the unit the problem names, and the label
 * whose value fills the problem's $1 when its words come from the series] for thresholds `t`.
 */
export function problems(t) {
  const notPaged = (t.fn_phase_not_paged ?? []).map((p) => ` and kkt_fn_phase{${F}} != ${p}`).join('');
  return [
    ['out of paper', `kkt_paper_present{${F}} == 0`],
    [`oldest unsent document older than ${days(t.unsent_oldest_warning_days)} (value: days)`,
      `kkt:unsent_oldest_age_seconds{${F}} / 86400 > ${t.unsent_oldest_warning_days}`],
    [`FN expires within ${days(t.fn_expiry_warning_days)} (value: days left)`, `kkt:fn_days_left{${F}} < ${t.fn_expiry_warning_days}`],
    [`FN at least ${t.fn_usage_warning_percent} % full (value: %)`, `kkt_fn_usage_percent{${F}} >= ${t.fn_usage_warning_percent}`],
    ['FN not in fiscal mode (value: phase)', `kkt_fn_phase{${F}} != 3${notPaged}`],
    ['OFD link error (value: code, see OFD link errors)', `kkt_ofd_network_error_code{${F}} != 0`],
    ['register not read (down or no data)', `kkt_up{${F}} == 0`],
    // The shift's age from its opening time or its number, at KktShiftOpenLong's and
    // KktShiftOpenLongNoTimestamp's hours; BusinessKassa's (neither) at KktShiftPossiblyExpired's.
    [`shift open longer than ${t.shift_warning_hours} h (value: hours)`,
      `kkt:shift_open_age_seconds{${F}, opened!="last_seen_closed"} / 3600 > ${t.shift_warning_hours}`],
    [`shift seen open at every reading for more than ${t.shift_expired_hours} h: possibly expired, check its last Z-report (value: hours)`,
      `kkt:shift_open_age_seconds{${F}, opened="last_seen_closed"} / 3600 > ${t.shift_expired_hours}`],
    [`vendor data older than ${t.stale_warning_hours} h (value: hours)`, `kkt:status_age_seconds{${F}} / 3600 > ${t.stale_warning_hours}`],
    // The flag's name, from its own series: "FN flag: urgent_replacement", never a bit mask.
    ['FN flag: $1', `kkt_fn_warning_flag{${F}} == 1`, 'flag'],
    // Registers that give no oldest document's time, told apart as the alerts do (kkt_info's url, id_kkm).
    ['UKM receipts unsent to the OFD (value: receipts)', `kkt_unsent_docs{${F}} > 0 and on(job, instance, source, kkt) kkt_info{${F}, url!=""}`],
    ['Kassa24 documents kept offline (value: documents)', `kkt_unsent_docs{${F}} > 0 and on(job, instance, source, kkt) kkt_info{${F}, id_kkm!=""}`],
    ['SuperMag Vision link down', `kkt_vision_connected{${F}} == 0`],
    [`MCU above ${t.mcu_temperature_celsius} °C (value: °C)`, `kkt_mcu_temperature_celsius{${F}} > ${t.mcu_temperature_celsius}`],
  ];
}

const target = (refId, expr, legendFormat) => ({
  datasource: { type: 'prometheus', uid: '${datasource}' },
  refId,
  expr,
  legendFormat,
  range: false,
  instant: true,
  editorMode: 'code',
  format: 'table',
});

/**
 * The time-to-block table: every register with a block moment (kkt:block_timestamp_seconds:earliest),
 * seconds left, soonest first; red where KktBlocksSoon fires (block_soon_hours), orange within a day.
 */
function renderTimeToBlock(t, table) {
  table.targets = [target('A', `sort(kkt:block_timestamp_seconds:earliest{${F}} - time())`, '{{source}} / {{kkt}}: {{reason}}')];
  table.fieldConfig.defaults.thresholds = {
    mode: 'absolute',
    steps: [{ color: 'red', value: null }, { color: 'orange', value: t.block_soon_hours * 3600 }, { color: 'text', value: 86400 }],
  };
}

/** The dashboard's text (`text`: the current file) with the generated tables from thresholds `t`. */
export function renderDashboard(t, text) {
  const dashboard = JSON.parse(text);
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const find = (title) => {
    const p = panels.find((x) => x.title === title);
    if (!p) throw new Error(`no panel "${title}" in the dashboard`);
    return p;
  };
  renderTimeToBlock(t, find(TIME_TO_BLOCK_TABLE));
  const table = find(PROBLEM_TABLE);
  const list = problems(t);
  if (list.length > 26) throw new Error('more problems than refIds A-Z');
  const refIds = list.map((_, i) => String.fromCharCode(65 + i));
  // label_replace with an empty regex on an empty source label: sets `problem` on every series.
  table.targets = list.map(([problem, expr, from], i) =>
    target(refIds[i], from ? `label_replace(${expr}, "problem", "${problem}", "${from}", "(.*)")` : `label_replace(${expr}, "problem", "${problem}", "", "")`, problem));
  // The merged table has one `Value #<refId>` column per query; a calculated `value` replaces them.
  const organize = table.transformations?.find((x) => x.id === 'organize');
  if (!organize) throw new Error(`"${PROBLEM_TABLE}": no organize transformation`);
  const exclude = Object.fromEntries(Object.entries(organize.options.excludeByName ?? {}).filter(([k]) => !k.startsWith('Value #')));
  for (const r of refIds) exclude[`Value #${r}`] = true;
  organize.options.excludeByName = exclude;
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

export function writeDashboard(t) {
  writeFileSync(DASHBOARD_FILE, renderDashboard(t, readFileSync(DASHBOARD_FILE, 'utf8')));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeDashboard(parse(readFileSync(new URL('../examples/alerts/thresholds.yml', import.meta.url), 'utf8')));
}
