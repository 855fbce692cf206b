import type { FleetStatus } from '../status/fleet-status.js';
import { dateText, DEFAULT_PLAN_DAYS, fnPlan, type FnPlan } from '../status/fn-plan.js';
import { esc } from './html.js';

/** Rows of the plan on the landing page; fn.csv has them all. */
const PLAN_SHOWN = 100;

/** The FN plan over every register's last reading kept in `status`. */
export function fleetFnPlan(status: FleetStatus, now: number, days = DEFAULT_PLAN_DAYS): FnPlan {
  const registers = [...status.all()].map(({ source, kkt, status: s }) => {
    const store = s.reading.labels.store;
    return { source, kkt, reading: s.reading, ...(store !== undefined ? { store } : {}), ...(s.fn ? { fn: s.fn } : {}) };
  });
  return fnPlan(registers, now / 1000, days);
}

/** The landing page's "FN replacement plan": grouped by store, soonest first, capped at PLAN_SHOWN rows. */
export function fnPlanSection(status: FleetStatus, now: number, days = DEFAULT_PLAN_DAYS): string {
  const plan = fleetFnPlan(status, now, days);
  const unknown = plan.rateUnknown > 0 ? `<p class="muted">Fill rate not known yet for ${plan.rateUnknown} registers (it needs two readings of their FN usage since the exporter started).</p>` : '';
  const head = `<section id="fn-plan"><h2>FN replacement plan</h2>
<p>Every FN that expires or fills within ${days} days, and every FN swapped without re-registration. <a href="fn.csv?days=${days}">fn.csv</a> has every row (<code>?days=N</code>, 1 to 3650, here and on this page).</p>${unknown}`;
  if (plan.rows.length === 0) return `${head}<p class="ok">No FN needs replacing within ${days} days.</p></section>`;
  const rows = plan.rows.slice(0, PLAN_SHOWN).map((r) =>
    `<tr><td>${esc(r.store)}</td><td>${esc(r.kkt)}<br><small>${esc(r.source)}</small></td><td>${esc(r.fnSerial)}</td><td class="nowrap">${esc(dateText(r.date))}</td><td>${esc(r.reason)}</td></tr>`);
  const more = plan.rows.length > PLAN_SHOWN ? `<p>and ${plan.rows.length - PLAN_SHOWN} more - see <a href="fn.csv?days=${days}">fn.csv</a></p>` : '';
  return `${head}<div class="scroll"><table><tr><th>store</th><th>register</th><th>FN serial</th><th>date</th><th>reason</th></tr>
${rows.join('\n')}</table></div>${more}</section>`;
}
