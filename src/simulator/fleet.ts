import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { UKM_FAULTS, UkmSimulator, type UkmFault, type UkmRegisterSpec, type UkmRegisterState } from './ukm.js';

export interface FleetSpec {
  timezone?: string;
  ukm: UkmRegisterSpec[];
}

const DEMO_STORES = [
  { store: '012', city: 'msk' },
  { store: '047', city: 'msk' },
  { store: '101', city: 'spb' },
];

/** Three stores of four tills, with the faults worth seeing: no paper, unsent receipts, an open receipt, a dead till. */
export function demoFleet(): FleetSpec {
  const now = Math.floor(Date.now() / 1000);
  const ukm: UkmRegisterSpec[] = DEMO_STORES.flatMap(({ store, city }, s) =>
    [1, 2, 3, 4].map((pos, p) => ({
      name: `${city}-${store}-pos0${pos}`,
      labels: { store, city },
      format: (s + p) % 2 === 0 ? ('text' as const) : ('json' as const),
      state: { userRoleId: 100 + pos, weight: 0 },
    })),
  );
  const patch = (name: string, spec: Partial<UkmRegisterSpec>): void => {
    const r = ukm.find((x) => x.name === name);
    if (r) Object.assign(r, spec, { state: { ...r.state, ...spec.state } });
  };
  patch('msk-012-pos02', { state: { paper: false } });
  patch('msk-047-pos01', { state: { unsent: 17 } });
  patch('spb-101-pos03', { state: { receiptOpen: true, lastActivity: now - 95 } });
  patch('spb-101-pos04', { fault: 'down' });
  patch('msk-047-pos03', { state: { vision: false, weight: 1.25 } });
  return { ukm };
}

/** `n` healthy registers for benchmarks and scale tests, half of them answering in JSON. */
export function generatedUkmFleet(n: number, prefix = 'pos'): UkmRegisterSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${String(i).padStart(5, '0')}`,
    format: i % 2 === 0 ? 'text' : 'json',
    state: { unsent: i % 7, userRoleId: i % 13, paper: i % 50 !== 0 },
  }));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > 1_000_000) req.destroy();
    });
    req.on('end', () => {
      try {
        resolve(text === '' ? {} : JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

/**
 * The simulated vendors of a whole chain, plus a small JSON control API on loopback that tests,
 * benchmarks and the end-to-end run use to read counters and switch faults on and off.
 */
export class SimulatedFleet {
  private control: Server | undefined;

  private constructor(readonly spec: FleetSpec, readonly ukm: UkmSimulator) {}

  static async start(spec: FleetSpec): Promise<SimulatedFleet> {
    const ukm = await UkmSimulator.start(spec.ukm, { timezone: spec.timezone ?? 'Europe/Moscow' });
    return new SimulatedFleet(spec, ukm);
  }

  /** An exporter config (as YAML) that monitors this fleet. */
  exporterConfig(overrides: { ukmEndpoints?: string[]; sourceName?: string } = {}): string {
    return stringify({
      global: { timezone: this.spec.timezone ?? 'Europe/Moscow', scrape_timeout: '10s' },
      sources: [
        {
          name: overrides.sourceName ?? 'stores',
          type: 'ukm',
          ...(overrides.ukmEndpoints ? { endpoints: overrides.ukmEndpoints } : {}),
          min_interval: '1s',
          allowed_targets: ['127.0.0.0/8'],
          registers: this.ukm.registers.map((r) => ({ name: r.name, url: r.url, ...(Object.keys(r.labels).length ? { labels: r.labels } : {}) })),
        },
      ],
    });
  }

  stats(): object {
    const violations = this.ukm.violations;
    return { ukm: { registers: this.ukm.registers.length, requests: this.ukm.requests, violations: violations.length, violation_samples: violations.slice(0, 20) } };
  }

  async startControl(port = 0, host = '127.0.0.1'): Promise<string> {
    this.control = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }));
      });
    });
    await new Promise<void>((resolve) => this.control?.listen(port, host, resolve));
    return `http://${host}:${(this.control.address() as AddressInfo).port}`;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://sim');
    if (req.method === 'GET' && url.pathname === '/stats') return json(200, this.stats());
    if (req.method === 'GET' && url.pathname === '/ukm') {
      return json(200, this.ukm.registers.map((r) => ({ name: r.name, url: r.url, fault: r.fault, format: r.format, state: r.state, requests: r.requests })));
    }
    const m = /^\/ukm\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PATCH' && m) {
      const reg = this.ukm.get(decodeURIComponent(m[1] ?? ''));
      if (!reg) return json(404, { error: 'no such register' });
      const body = (await readJson(req)) as { fault?: UkmFault; state?: Partial<UkmRegisterState> };
      if (body.fault !== undefined) {
        if (!UKM_FAULTS.includes(body.fault)) return json(400, { error: `fault must be one of ${UKM_FAULTS.join(', ')}` });
        await reg.setFault(body.fault);
      }
      if (body.state) reg.state = { ...reg.state, ...body.state };
      return json(200, { name: reg.name, fault: reg.fault, state: reg.state });
    }
    json(404, { error: 'not found' });
  }

  async stop(): Promise<void> {
    if (this.control) {
      this.control.closeAllConnections();
      await new Promise<void>((resolve) => this.control?.close(() => resolve()));
    }
    await this.ukm.stop();
  }
}
