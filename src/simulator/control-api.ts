import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ATOL_OVERSIZED_FIELDS, ATOL_PAGING_FAULTS, atolRegisterControlSchema, oversizedAtolFleet, served as servedAtol } from './atol.js';
import { bkRegisterControlSchema } from './businesskassa.js';
import { readControlBody, wholeNumber } from './control.js';
import type { SimulatedFleet } from './fleet.js';
import { sendJson, SIM_FAULTS } from './http.js';
import { k24ControlSchema, k24RegisterControlSchema } from './kassa24.js';
import { ukmControlSchema } from './ukm.js';

/** The most registers a fleet of one cloud vendor may hold, from the command line or `oversized`. */
export const MAX_CLOUD_REGISTERS = 100_000;
/** The most characters `PATCH /atol {"oversized": ...}` may make (registers x length): 100 M, about 200 MB of strings. */
export const MAX_OVERSIZED_CHARS = 100_000_000;
/** The longest latency the control API adds to an answer: 10 minutes, past any scrape deadline. */
export const MAX_CONTROL_LATENCY_MS = 600_000;

const SIM_VENDORS = ['ukm', 'atol', 'businesskassa', 'kassa24'] as const;

const faultsSchema = z.strictObject({
  vendor: z.enum(SIM_VENDORS),
  /** A UKM register's name: each till is a server of its own. */
  register: z.string().optional(),
  fault: z.enum(SIM_FAULTS).nullable().optional(),
});

const atolSchema = z.strictObject({
  latency_ms: wholeNumber(0, MAX_CONTROL_LATENCY_MS).optional(),
  failing_offsets: z.array(wholeNumber(0)).optional(),
  expire_tokens: z.boolean().optional(),
  paging: z.enum(ATOL_PAGING_FAULTS).nullable().optional(),
  oversized: z
    .strictObject({ registers: wholeNumber(0, MAX_CLOUD_REGISTERS), field: z.enum(ATOL_OVERSIZED_FIELDS).optional(), length: wholeNumber(0) })
    .refine((o) => o.registers * o.length <= MAX_OVERSIZED_CHARS, `registers x length may be at most ${MAX_OVERSIZED_CHARS}`)
    .optional(),
});

const businessKassaSchema = z.strictObject({
  clock_offset_hours: z.number().min(-24).max(24).optional(),
  circuit_fault: wholeNumber(400, 599).nullable().optional(),
  circuit_repeats: z.boolean().optional(),
});

type Handler = (fleet: SimulatedFleet, req: IncomingMessage, res: ServerResponse, id: string) => Promise<void> | void;

const noVendor = (res: ServerResponse, vendor: string) => sendJson(res, 404, { error: `this fleet has no ${vendor} service` });
const noRegister = (res: ServerResponse, id: string) => sendJson(res, 404, { error: `no register ${id}` });

/** `METHOD /path` (with `:id` for one register) -> its handler. */
const ROUTES: Record<string, Handler> = {
  'GET /stats': (fleet, _req, res) => sendJson(res, 200, fleet.stats()),
  'GET /ukm': (fleet, _req, res) => sendJson(res, 200, fleet.ukm.registers.map((r) => r.view())),
  'PATCH /ukm/:id': async (fleet, req, res, name) => {
    const reg = fleet.ukm.get(name);
    if (!reg) return noRegister(res, name);
    const body = await readControlBody(req, res, ukmControlSchema);
    if (body) sendJson(res, 200, await reg.control(body));
  },
  'PATCH /faults': async (fleet, req, res) => {
    const body = await readControlBody(req, res, faultsSchema);
    if (!body) return;
    const server = fleet.serverOf(body.vendor, body.register);
    if (!server) return sendJson(res, 404, { error: body.vendor === 'ukm' ? `no UKM register ${body.register ?? '(register missing)'}` : `this fleet has no ${body.vendor} service` });
    if (body.fault !== undefined) await server.setFault(body.fault ?? undefined);
    sendJson(res, 200, { vendor: body.vendor, register: body.register, fault: server.fault ?? null });
  },
  'PATCH /atol': async (fleet, req, res) => {
    const atol = fleet.atol;
    if (!atol) return noVendor(res, 'atol');
    const body = await readControlBody(req, res, atolSchema);
    if (!body) return;
    if (body.paging !== undefined) atol.paging = body.paging ?? undefined;
    if (body.latency_ms !== undefined) atol.latencyMs = body.latency_ms;
    if (body.failing_offsets) {
      atol.failingOffsets.clear();
      for (const o of body.failing_offsets) atol.failingOffsets.add(o);
    }
    if (body.expire_tokens) atol.expireTokens();
    // The fleet becomes `registers` registers whose `field` (default serialNumber) is `length` characters long.
    if (body.oversized) atol.registers = oversizedAtolFleet(body.oversized.registers, body.oversized.field ?? 'serialNumber', body.oversized.length);
    sendJson(res, 200, fleet.stats());
  },
  'GET /atol/registers': (fleet, _req, res) => (fleet.atol ? sendJson(res, 200, fleet.atol.registers.map(servedAtol)) : noVendor(res, 'atol')),
  'PATCH /atol/registers/:id': async (fleet, req, res, serial) => {
    const atol = fleet.atol;
    if (!atol) return noVendor(res, 'atol');
    if (!atol.registers.some((r) => r.serialNumber === serial)) return noRegister(res, serial);
    const body = await readControlBody(req, res, atolRegisterControlSchema);
    if (body) sendJson(res, 200, atol.control(serial, body));
  },
  'PATCH /businesskassa': async (fleet, req, res) => {
    const bk = fleet.businesskassa;
    if (!bk) return noVendor(res, 'businesskassa');
    const body = await readControlBody(req, res, businessKassaSchema);
    if (!body) return;
    if (body.clock_offset_hours !== undefined) bk.clockOffsetHours = body.clock_offset_hours;
    if (body.circuit_fault !== undefined) bk.circuitFault = body.circuit_fault ?? undefined;
    if (body.circuit_repeats !== undefined) bk.circuitRepeats = body.circuit_repeats;
    sendJson(res, 200, { clock_offset_hours: bk.clockOffsetHours, circuit_fault: bk.circuitFault ?? null, circuit_repeats: bk.circuitRepeats, frs_calls: bk.fleetCalls });
  },
  'GET /businesskassa/registers': (fleet, _req, res) => (fleet.businesskassa ? sendJson(res, 200, fleet.businesskassa.registers.map((r) => fleet.businesskassa?.served(r))) : noVendor(res, 'businesskassa')),
  'PATCH /businesskassa/registers/:id': async (fleet, req, res, sn) => {
    const bk = fleet.businesskassa;
    if (!bk) return noVendor(res, 'businesskassa');
    if (!bk.registers.some((r) => r.sn === sn)) return noRegister(res, sn);
    const body = await readControlBody(req, res, bkRegisterControlSchema);
    if (body) sendJson(res, 200, bk.control(sn, body));
  },
  'PATCH /kassa24': async (fleet, req, res) => {
    const k24 = fleet.kassa24;
    if (!k24) return noVendor(res, 'kassa24');
    const body = await readControlBody(req, res, k24ControlSchema);
    if (!body) return;
    const { register, clock_offset_ms, expire_tokens, ...keys } = body;
    if (register === undefined && Object.keys(keys).length > 0) return sendJson(res, 400, { error: `${Object.keys(keys).join(', ')}: a register's keys need "register" (or PATCH /kassa24/registers/ID)` });
    // With `register`: that register's faults (blocked, shift_fault, offline_queue, xreport_refused, ...).
    const patched = register === undefined ? undefined : k24.control(register, keys);
    if (register !== undefined && !patched) return noRegister(res, String(register));
    if (clock_offset_ms !== undefined) k24.clockOffsetMs = clock_offset_ms;
    if (expire_tokens) k24.expireTokens();
    sendJson(res, 200, { ...fleet.stats(), ...(patched ? { register: patched } : {}) });
  },
  'GET /kassa24/registers': (fleet, _req, res) => (fleet.kassa24 ? sendJson(res, 200, fleet.kassa24.registers.map((r) => fleet.kassa24?.view(r))) : noVendor(res, 'kassa24')),
  'PATCH /kassa24/registers/:id': async (fleet, req, res, id) => {
    const k24 = fleet.kassa24;
    if (!k24) return noVendor(res, 'kassa24');
    if (!k24.registers.some((r) => String(r.id) === id)) return noRegister(res, id);
    const body = await readControlBody(req, res, k24RegisterControlSchema);
    if (body) sendJson(res, 200, k24.control(Number(id), body));
  },
};

/** Answers one request of the fleet's control API. */
export async function routeControl(fleet: SimulatedFleet, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://sim');
  const one = /^(\/[a-z0-9]+(?:\/registers)?)\/([^/]+)$/.exec(pathname);
  const exact = ROUTES[`${req.method} ${pathname}`];
  if (exact) return exact(fleet, req, res, '');
  const handler = one ? ROUTES[`${req.method} ${one[1]}/:id`] : undefined;
  if (handler && one) return handler(fleet, req, res, decodeURIComponent(one[2] ?? ''));
  sendJson(res, 404, { error: 'not found', routes: Object.keys(ROUTES) });
}
