import type { Exporter } from '../exporter/exporter.js';
import type { ReloadFailure } from '../exporter/generations.js';
import type { Source } from '../sources/source.js';
import type { RegisterStatus } from '../status/fleet-status.js';
import type { ReadRecord } from '../status/history.js';
import { blockTimeOf, blockTimeText, type BlockTime } from '../status/block-time.js';
import { notReadProblems, outsideTradingHours, PROBLEM_KINDS, problemsOf, type Problem, type ProblemKind } from '../status/problems.js';
import type { Thresholds } from '../status/thresholds.js';
import { esc } from './html.js';
import { fnPlanSection } from './fn-plan-page.js';
import { VERSION } from '../version.js';
import { isListQuery, listHref, ROW_STATES, type LandingQuery, type RowState } from './landing-query.js';

/** The alert thresholds the page judges readings by, or why they could not be read. */
export type PageThresholds = { ok: true; thresholds: Thresholds } | { ok: false; error: string };

/** A config the exporter reloads: its last reload when that failed, and when the one in force was loaded. */
export interface ReloadState {
  readonly lastReloadFailure: ReloadFailure | undefined;
  readonly loadedAt: Date | undefined;
}

/** What one request asks of the page: a list of registers, and the web config to report on. */
export interface PageView {
  query?: LandingQuery;
  webConfig?: ReloadState;
}

/** Registers listed per source, and in "Need attention"; the summary counts them all. */
const MAX_LISTED = 200;
const RECENT_SHOWN = 30;

interface RegisterRow {
  source: Source;
  kkt: string;
  detail: string;
  /** Its `store` label, when its static labels have one. */
  store?: string;
  status?: RegisterStatus;
  problems: Problem[];
  block?: BlockTime;
}

const rank = (row: RegisterRow): number =>
  row.problems.some((p) => p.severity === 'critical') ? 0 : row.problems.length > 0 ? 1 : row.status ? 3 : 2;

/** Soonest block first, registers with no block time after; then by rank. */
const byBlockTime = (a: RegisterRow, b: RegisterRow): number =>
  (a.block?.at ?? Infinity) - (b.block?.at ?? Infinity) || rank(a) - rank(b);

function ago(at: Date, now: number): string {
  const s = Math.max(0, Math.round((now - at.getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${(s / 3600).toFixed(1)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** Every register a source knows (its config or its vendor's last list), with its last reading judged now. */
function rowsOf(exporter: Exporter, source: Source, judge: (s: RegisterStatus) => Problem[]): RegisterRow[] {
  const rows = source.registers().map(({ kkt, detail, labels }): RegisterRow => {
    const status = exporter.status.register(source.name, kkt);
    const block = status && blockTimeOf(status.reading);
    const store = labels?.store ?? status?.reading.labels.store;
    return { source, kkt, detail, ...(store !== undefined ? { store } : {}), ...(status ? { status } : {}), ...(block ? { block } : {}), problems: status ? judge(status) : [] };
  });
  return rows.sort((a, b) => rank(a) - rank(b));
}

function problemList(problems: Problem[], runbook: string | undefined): string {
  if (problems.length === 0) return '';
  return `<ul class="problems">${problems
    .map((p) => {
      const text = esc(p.text);
      const linked = runbook ? `<a href="${esc(`${runbook}#${p.alert.toLowerCase()}`)}">${text}</a>` : text;
      return `<li class="${p.severity}">${linked}</li>`;
    })
    .join('')}</ul>`;
}

/** A register's remarks that are not failures (e.g. why its cached totals are old). */
function notes(lines: readonly string[] | undefined): string {
  return lines?.length ? `<ul class="notes">${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : '';
}

function blockCell(row: RegisterRow, now: number): string {
  return row.block ? `<td class="nowrap">${esc(blockTimeText(row.block, now / 1000))}</td>` : '<td></td>';
}

function stateOf(row: RegisterRow): RowState {
  if (!row.status) return 'not-read-yet';
  if (!row.status.reading.up) return outsideTradingHours(row.status.reading) ? 'closed' : 'not-read';
  if (row.problems.some((p) => p.severity === 'critical')) return 'needs-attention';
  return row.problems.length > 0 ? 'check' : 'ok';
}

/** Each state's class and words in the state column. */
const STATE_CELLS: Record<RowState, [string, string]> = {
  'not-read-yet': ['muted', 'not read yet'],
  closed: ['muted', 'closed, not read'],
  'not-read': ['critical', 'not read'],
  'needs-attention': ['critical', 'needs attention'],
  check: ['warning', 'check'],
  ok: ['ok', 'ok'],
};

function stateCell(row: RegisterRow): string {
  const [cls, text] = STATE_CELLS[stateOf(row)];
  return `<td class="${cls}">${text}</td>`;
}

function registerRow(row: RegisterRow, now: number, runbook: string | undefined, withSource: boolean, store: boolean): string {
  const q = `source=${encodeURIComponent(row.source.name)}&amp;target=${encodeURIComponent(row.kkt)}`;
  const log = row.status ? `<a href="logs?id=${row.status.probeId}">log</a> · ` : '';
  return `<tr><td><b>${esc(row.kkt)}</b><br><small>${esc(row.detail)}</small></td>${store ? `<td>${esc(row.store ?? '')}</td>` : ''}${withSource ? `<td>${esc(row.source.name)}</td>` : ''}${stateCell(row)}` +
    `<td>${problemList(row.problems, runbook)}${notes(row.status?.reading.notes)}</td>${blockCell(row, now)}<td class="nowrap">${row.status ? ago(row.status.at, now) : ''}</td>` +
    `<td class="nowrap">${log}<a href="probe?${q}&amp;debug=true" title="asks the register again now">probe now</a></td></tr>`;
}

function table(head: string[], rows: string[]): string {
  return `<div class="scroll"><table><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>\n${rows.join('\n')}</table></div>`;
}

function sourceRead(exporter: Exporter, source: Source, rows: RegisterRow[], now: number): string {
  const last = exporter.status.lastRead(source.name);
  if (!last) return '<span class="muted">not read yet as a whole</span>';
  const notRead = rows.filter((r) => r.status && !r.status.reading.up).length;
  const why = last.error ?? (notRead > 0 ? `${notRead} of ${rows.length} registers not read` : '');
  const result = last.success ? '<span class="ok">ok</span>' : `<span class="critical">failed${why ? `: ${esc(why)}` : ''}</span>`;
  return `${result}, ${ago(last.at, now)} in ${last.durationSeconds.toFixed(2)} s (<a href="logs?id=${last.probeId}">log</a>)${(last.warnings ?? []).map((w) => `<br><span class="warning">${esc(w)}</span>`).join('')}`;
}

function summary(exporter: Exporter, bySource: Map<Source, RegisterRow[]>, now: number): string {
  const all = [...bySource.values()].flat();
  const attention = all.filter((r) => r.problems.length > 0);
  const critical = attention.filter((r) => r.problems.some((p) => p.severity === 'critical'));
  const up = all.filter((r) => r.status?.reading.up).length;
  const kinds = new Map<ProblemKind, number>();
  for (const r of attention) for (const kind of new Set(r.problems.map((p) => p.kind))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  const byKind = (Object.keys(PROBLEM_KINDS) as ProblemKind[])
    .filter((k) => kinds.has(k))
    .map((k) => `<li>${esc(PROBLEM_KINDS[k])}: <b>${kinds.get(k)}</b></li>`)
    .join('');
  const rows = [...bySource].map(([source, rs]) => {
    const bad = rs.filter((r) => r.problems.length > 0).length;
    return `<tr><td><a href="#source-${encodeURIComponent(source.name)}">${esc(source.name)}</a></td><td>${esc(source.type)}</td><td>${rs.length}</td>` +
      `<td>${rs.filter((r) => r.status?.reading.up).length}</td><td class="${bad > 0 ? 'warning' : ''}">${bad}</td><td>${sourceRead(exporter, source, rs, now)}</td></tr>`;
  });
  return `<section id="summary"><h2>Summary</h2>
<p class="headline"><b>${all.length}</b> registers, <b>${up}</b> up, <b class="${attention.length > 0 ? 'warning' : 'ok'}">${attention.length}</b> need attention` +
    `${critical.length > 0 ? ` (<b class="critical">${critical.length}</b> critical)` : ''}.</p>
${byKind ? `<ul class="kinds">${byKind}</ul>` : ''}
${table(['source', 'type', 'registers', 'up', 'need attention', 'last read of the whole source'], rows)}</section>`;
}

function attentionSection(rows: RegisterRow[], now: number, runbook: string | undefined): string {
  const bad = rows.filter((r) => r.problems.length > 0).sort(byBlockTime);
  if (bad.length === 0) return '<section id="attention"><h2>Need attention</h2><p class="ok">No register has a problem in its last reading.</p></section>';
  const more = bad.length > MAX_LISTED ? `<p>... and ${bad.length - MAX_LISTED} more: all those <a href="${listHref({ state: 'needs-attention' }, 1)}">needing attention</a>, <a href="${listHref({ state: 'not-read' }, 1)}">not read</a>, <a href="${listHref({ state: 'check' }, 1)}">to check</a>.</p>` : '';
  return `<section id="attention"><h2>Need attention</h2>
${registerTable(bad.slice(0, MAX_LISTED), now, runbook, true)}${more}</section>`;
}

function sourceSection(exporter: Exporter, source: Source, rows: RegisterRow[], now: number, runbook: string | undefined): string {
  const q = encodeURIComponent(source.name);
  const more = rows.length > MAX_LISTED
    ? `<p>... and ${rows.length - MAX_LISTED} more registers (those with problems are listed first): <a href="${listHref({ source: source.name }, 1)}">all ${rows.length} registers of ${esc(source.name)}</a>.</p>`
    : '';
  return `<section><h2 id="source-${q}">${esc(source.name)} <small>(${esc(source.type)}, ${rows.length} registers)</small></h2>
<p>Last read: ${sourceRead(exporter, source, rows, now)} · <a href="probe?source=${q}&amp;debug=true">probe the source now</a></p>
${registerTable(rows.slice(0, MAX_LISTED), now, runbook, false)}${more}</section>`;
}

/** Registers, with a `store` column when any of them has a `store` label. */
function registerTable(rows: RegisterRow[], now: number, runbook: string | undefined, withSource: boolean): string {
  const store = rows.some((r) => r.store !== undefined);
  const head = ['register', ...(store ? ['store'] : []), ...(withSource ? ['source'] : []), 'state', 'problems', 'blocks', 'reading', ''];
  return table(head, rows.map((r) => registerRow(r, now, runbook, withSource, store)));
}

function recentSection(history: ReadRecord[], now: number): string {
  if (history.length === 0) return '<section id="recent"><h2>Recent probes</h2><p class="muted">None yet.</p></section>';
  const rows = history.slice(0, RECENT_SHOWN).map((r) =>
    `<tr><td class="nowrap">${ago(r.at, now)}</td><td>${esc(r.source)}</td><td>${r.target === undefined ? '<i>all</i>' : esc(r.target)}</td><td>${r.via === 'metrics' ? '/metrics' : '/probe'}</td>` +
    `<td class="${r.success ? 'ok' : 'critical'}">${r.success ? 'success' : `failed${r.error ? `: ${esc(r.error)}` : ''}`}</td><td class="nowrap">${r.durationSeconds.toFixed(2)} s</td><td><a href="logs?id=${r.id}">log</a></td></tr>`,
  );
  return `<section id="recent"><h2>Recent probes</h2>
<p class="muted">The last probes and failures kept in memory; a log shows what happened without asking the register again.</p>
${table(['when', 'source', 'target', 'via', 'result', 'took', ''], rows)}</section>`;
}

/** Which shard this is and what it owns; nothing when it is the only one. */
function shardLine(exporter: Exporter): string {
  const { shard } = exporter;
  if (shard.count === 1) return '';
  const registers = exporter.sources.reduce((n, s) => n + (s.probeTargets()?.length ?? s.registers().length), 0);
  return `<p>Shard ${shard.index} of ${shard.count}: ${exporter.sources.length} sources, ${registers} registers owned (other sources and registers belong to the other shards).</p>`;
}

/** A red line when the last reload of `state` failed: the exporter runs the one loaded before, which `keeps` names. */
function reloadBanner(what: string, state: ReloadState | undefined, keeps: string): string {
  const failure = state?.lastReloadFailure;
  if (!failure) return '';
  const kept = state?.loadedAt ? `${keeps} ${esc(state.loadedAt.toISOString())}` : 'no config is loaded';
  return `<p class="banner critical">${what} reload failed at ${esc(failure.at.toISOString())}: ${esc(failure.error)}<br>${kept}.</p>\n`;
}

/** A GET form for `/?source=&store=&state=`: works without JavaScript. */
function filterForm(sources: Source[], q: LandingQuery): string {
  const option = (value: string, text: string, selected: boolean) => `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(text)}</option>`;
  const sourceOptions = [option('', 'every source', !q.source), ...sources.map((s) => option(s.name, s.name, q.source === s.name))].join('');
  const stateOptions = [option('', 'any state', !q.state), ...ROW_STATES.map((st) => option(st, STATE_CELLS[st][1], q.state === st))].join('');
  return `<form class="filter" method="get" action=""><b>List registers:</b>
<label>source <select name="source">${sourceOptions}</select></label>
<label>store <input name="store" maxlength="200" size="10" value="${esc(q.store ?? '')}"></label>
<label>state <select name="state">${stateOptions}</select></label>
<button type="submit">List</button>${isListQuery(q) ? ' <a href="./">whole page</a>' : ''}</form>`;
}

/** The registers matching the query, source by source and by register id (an order that holds from page to page), MAX_LISTED a page. */
function listSection(bySource: Map<Source, RegisterRow[]>, q: LandingQuery, now: number, runbook: string | undefined): string {
  const rows = [...bySource]
    .filter(([s]) => q.source === undefined || s.name === q.source)
    .flatMap(([, rs]) => [...rs].sort((a, b) => (a.kkt < b.kkt ? -1 : a.kkt > b.kkt ? 1 : 0)))
    .filter((r) => (q.store === undefined || r.store === q.store) && (q.state === undefined || stateOf(r) === q.state));
  const pages = Math.max(1, Math.ceil(rows.length / MAX_LISTED));
  const page = q.page ?? 1;
  const what = [q.source && `of source ${esc(q.source)}`, q.store && `of store ${esc(q.store)}`, q.state && `in state "${STATE_CELLS[q.state][1]}"`].filter(Boolean).join(', ');
  const noSuchSource = q.source !== undefined && ![...bySource.keys()].some((s) => s.name === q.source) ? ` No source is named ${esc(q.source)}.` : '';
  const nav = [page > 1 ? `<a href="${listHref(q, page - 1)}">previous</a>` : '', page < pages ? `<a href="${listHref(q, page + 1)}">next</a>` : ''].filter(Boolean).join(' · ');
  const head = `<p><b>${rows.length}</b> registers${what ? ` ${what}` : ''}; page ${page} of ${pages}${nav ? ` · ${nav}` : ''}.${noSuchSource}</p>`;
  const shown = rows.slice((page - 1) * MAX_LISTED, page * MAX_LISTED);
  const body = shown.length > 0 ? registerTable(shown, now, runbook, true)
    : page > pages ? `<p>Page ${page} is past the last page: <a href="${listHref(q, pages)}">page ${pages}</a>.</p>` : '<p class="muted">No register matches.</p>';
  return `<section id="list"><h2>Registers</h2>
${head}
${body}
${shown.length > 0 && nav ? `<p>${nav}</p>` : ''}</section>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:80em;line-height:1.4}
h1{margin:0}h2{margin-top:1.5em;border-bottom:1px solid #ccc}small,.muted{color:#666}
.scroll{overflow-x:auto}table{border-collapse:collapse;min-width:100%}td,th{padding:4px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #ddd}
.critical{color:#b00;font-weight:bold}.warning{color:#a60;font-weight:bold}.ok{color:#070}.nowrap{white-space:nowrap}
ul.problems,ul.notes{margin:0;padding-left:1.1em}ul.notes{color:#666}ul.problems li.warning,ul.problems li.critical{font-weight:normal}ul.problems a{color:inherit}
ul.kinds{display:flex;flex-wrap:wrap;gap:.3em 1.5em;padding:0;list-style:none}.headline{font-size:1.2em}
p.banner{background:#fee;border:2px solid #b00;padding:.5em 1em}form.filter{display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center}
@media (max-width:40em){body{padding:.5em}td,th{padding:3px 4px}}`;

/** `GET /`: which registers need attention and why, how the last reads went, and recent probes. No secrets. */
export function landingPage(exporter: Exporter, thresholds: PageThresholds, view: PageView = {}, now = Date.now()): string {
  const judge = (s: RegisterStatus): Problem[] =>
    thresholds.ok ? problemsOf(s.reading, now / 1000, thresholds.thresholds) : notReadProblems(s.reading);
  const runbook = thresholds.ok ? thresholds.thresholds.runbook_base_url : undefined;
  const bySource = new Map(exporter.sources.map((s) => [s, rowsOf(exporter, s, judge)]));
  const noThresholds = thresholds.ok ? '' : `<p class="warning">Only registers not read are flagged: the alert thresholds could not be read (${esc(thresholds.error)}).</p>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>KKT Exporter</title><style>${STYLE}</style></head><body>
<h1>KKT Exporter</h1>
<p class="muted">Version ${esc(VERSION)} · Node.js ${esc(process.version)} · started ${esc(exporter.startedAt.toISOString())} · config ${esc(exporter.configFile)}</p>
${shardLine(exporter)}
<p><a href="metrics">Metrics</a> (reads every register now) · <a href="sd">Service discovery</a> · <a href="#recent">Recent probes</a> · <a href="-/healthy">Health</a> · <a href="-/ready">Ready</a></p>
${reloadBanner('Config', exporter.generations, 'the exporter keeps running the config loaded at')}${reloadBanner('Web config', view.webConfig, 'the exporter keeps the web config loaded at')}${noThresholds}
${exporter.sources.length === 0 ? '<p>No sources configured.</p>' : `${summary(exporter, bySource, now)}
${filterForm(exporter.sources, view.query ?? {})}
${view.query && isListQuery(view.query) ? listSection(bySource, view.query, now, runbook) : `${attentionSection([...bySource.values()].flat(), now, runbook)}
${[...bySource].map(([s, rows]) => sourceSection(exporter, s, rows, now, runbook)).join('\n')}`}`}
${fnPlanSection(exporter.status, now, view.query?.days)}
${recentSection(exporter.history.list(), now)}
<p class="muted">Problems are judged from each register's last reading by the alert rules' thresholds; an alert fires only after its own duration.
"Blocks" is the earliest block that last reading shows: 30 days after the oldest document unsent to the OFD, 24 h after a shift opened, the FN expiry date.
Kazakhstan's 72 h offline needs the register's history: only Prometheus has it (<code>kkt:block_timestamp_seconds</code>, alert KktBlocksSoon). The FN replacement plan estimates an FN's fill from the readings this process made since it started; Prometheus's rule uses the last week.</p>
</body></html>
`;
}
