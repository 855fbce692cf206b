import type { Exporter } from '../exporter.js';
import { VERSION } from '../version.js';

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Registers listed per source on the page; a large fleet is summarised beyond this. */
const MAX_LISTED = 200;

function sourceSection(exporter: Exporter, name: string): string {
  const source = exporter.sources.find((s) => s.name === name);
  if (!source) return '';
  const last = exporter.lastResults.get(name);
  const q = encodeURIComponent(name);
  const registers = source.registers();
  const rows = registers.slice(0, MAX_LISTED).map((r) => {
    const up = last?.registers.get(r.kkt);
    const state = up === undefined ? 'not read yet' : up ? 'up' : 'DOWN';
    const t = encodeURIComponent(r.kkt);
    return `<tr><td>${esc(r.kkt)}</td><td>${esc(r.detail)}</td><td class="${up === false ? 'bad' : ''}">${state}</td>` +
      `<td><a href="probe?source=${q}&amp;target=${t}">probe</a> <a href="probe?source=${q}&amp;target=${t}&amp;debug=true">debug</a></td></tr>`;
  });
  const more = registers.length > MAX_LISTED ? `<p>... and ${registers.length - MAX_LISTED} more registers.</p>` : '';
  const lastText = last
    ? `last read ${esc(last.at.toISOString())}: ${last.success ? 'success' : '<span class="bad">failed</span>'} in ${last.durationSeconds.toFixed(2)} s`
    : 'not read yet';
  return `<h2>${esc(name)} <small>(${esc(source.type)}, ${registers.length} registers)</small></h2>
<p>${lastText} · <a href="probe?source=${q}">probe source</a> · <a href="probe?source=${q}&amp;debug=true">debug</a></p>
<table><tr><th>register</th><th>address</th><th>last result</th><th></th></tr>${rows.join('\n')}</table>${more}`;
}

/** Which shard this is and what it owns; nothing when it is the only one. */
function shardLine(exporter: Exporter): string {
  const { shard } = exporter;
  if (shard.count === 1) return '';
  const registers = exporter.sources.reduce((n, s) => n + (s.probeTargets()?.length ?? s.registers().length), 0);
  return `<p>Shard ${shard.index} of ${shard.count}: ${exporter.sources.length} sources, ${registers} registers owned (other sources and registers belong to the other shards).</p>`;
}

/** `GET /`: what is running, what it watches and how the last reads went. No secrets. */
export function landingPage(exporter: Exporter): string {
  const names = exporter.sources.map((s) => s.name);
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>KKT Exporter</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}.bad{color:#c00;font-weight:bold}small{color:#666}</style>
</head><body>
<h1>KKT Exporter</h1>
<p>Version ${esc(VERSION)} · Node.js ${esc(process.version)} · started ${esc(exporter.startedAt.toISOString())} · config ${esc(exporter.configFile)}</p>
${shardLine(exporter)}
<p><a href="metrics">Metrics</a> (every register, read now) · <a href="sd">Service discovery</a> (the /probe targets) · <a href="-/healthy">Health</a> · <a href="-/ready">Ready</a></p>
${names.length === 0 ? '<p>No sources configured.</p>' : names.map((n) => sourceSection(exporter, n)).join('\n')}
</body></html>
`;
}
