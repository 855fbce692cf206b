import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedFleet } from '../../src/simulator/fleet.js';
import type { SimulatedUkmRegister } from '../../src/simulator/ukm.js';
import { get, startExporter, type RunningExporter } from '../support/exporter.js';
import { parseMetrics, valueOf, type Series } from '../support/metrics.js';

const CLOSED_AT = 1_795_000_000;

describe('a chain across time zones: offset-less UKM times read in the register\'s zone, else the source\'s, else the global one', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;
  let series: Series[];

  beforeAll(async () => {
    const state = { receiptOpen: false, lastClosed: CLOSED_AT };
    fleet = await SimulatedFleet.start({
      timezone: 'Europe/Moscow',
      ukm: [
        { name: 'msk', format: 'text', state },
        { name: 'vvo', format: 'text', state, timezone: 'Asia/Vladivostok' },
        { name: 'ala', format: 'text', state, timezone: 'Asia/Almaty' },
      ],
    });
    const reg = (name: string) => fleet.ukm.get(name) as SimulatedUkmRegister;
    app = await startExporter(
      [
        'global: { timezone: Europe/Moscow }',
        'sources:',
        '  - name: ru',
        '    type: ukm',
        '    endpoints: [downtime]',
        '    registers:',
        `      - { name: msk, url: "${reg('msk').url}" }`,
        `      - { name: vvo, url: "${reg('vvo').url}", timezone: Asia/Vladivostok }`,
        '  - name: kz',
        '    type: ukm',
        '    timezone: Asia/Almaty',
        '    endpoints: [downtime]',
        '    registers:',
        `      - { name: ala, url: "${reg('ala').url}" }`,
        '',
      ].join('\n'),
    );
    series = parseMetrics((await get(`${app.url}/metrics`)).text);
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('reads each register\'s local time as the same instant', () => {
    expect(valueOf(series, 'kkt_receipt_last_closed_timestamp_seconds', { kkt: 'msk' })).toBe(CLOSED_AT);
    expect(valueOf(series, 'kkt_receipt_last_closed_timestamp_seconds', { kkt: 'vvo' })).toBe(CLOSED_AT);
    expect(valueOf(series, 'kkt_receipt_last_closed_timestamp_seconds', { kkt: 'ala' })).toBe(CLOSED_AT);
  });
});

describe('ATOL documents its times as UTC: an offset-less ATOL time is UTC unless its source names a zone', () => {
  let fleet: SimulatedFleet;
  let app: RunningExporter;
  let series: Series[];

  beforeAll(async () => {
    const { generatedAtolFleet } = await import('../../src/simulator/atol.js');
    const registers = generatedAtolFleet(1);
    Object.assign(registers[0] as object, { timestamp: '2026-11-20T10:00:00' });
    fleet = await SimulatedFleet.start({ ukm: [], atol: { registers } });
    const atol = fleet.atol as NonNullable<SimulatedFleet['atol']>;
    const source = (name: string, zone?: string) =>
      `  - { name: ${name}, type: atol, url: "${atol.url}", login: ${atol.login}, password: ${atol.password}${zone ? `, timezone: ${zone}` : ''} }`;
    app = await startExporter(['global: { timezone: Europe/Moscow }', 'sources:', source('utc'), source('vvo', 'Asia/Vladivostok'), ''].join('\n'));
    series = parseMetrics((await get(`${app.url}/metrics`)).text);
  });

  afterAll(async () => {
    await app?.stop();
    await fleet?.stop();
  });

  it('reads it as UTC by default, not in global.timezone', () => {
    expect(valueOf(series, 'kkt_status_timestamp_seconds', { source: 'utc' })).toBe(Date.parse('2026-11-20T10:00:00Z') / 1000);
  });

  it('reads it in the zone the source names', () => {
    expect(valueOf(series, 'kkt_status_timestamp_seconds', { source: 'vvo' })).toBe(Date.parse('2026-11-20T00:00:00Z') / 1000);
  });
});
