import { describe, expect, it } from 'vitest';
import { MAX_CLOUD_REGISTERS } from './control-api.js';
import { MAX_UKM_REGISTERS, simulatorArgs, UsageError } from './args.js';

describe("the simulator's command line", () => {
  it.each([
    ['--ukm=-1', /--ukm=-1: expected a whole number from 0 to 20000/],
    ['--ukm=1.5', /--ukm=1.5: expected a whole number/],
    ['--ukm=abc', /--ukm=abc: expected a whole number/],
    ['--ukm=1e3', /--ukm=1e3: expected a whole number/],
    [`--ukm=${MAX_UKM_REGISTERS + 1}`, /--ukm=20001: expected a whole number from 0 to 20000/],
    ['--atol=99999999999999999999', /--atol=9+: expected a whole number from 0 to 100000/],
    [`--bk=${MAX_CLOUD_REGISTERS + 1}`, /--bk=100001/],
    ['--kassa24=-3', /--kassa24=-3/],
    ['--control-port=70000', /--control-port=70000: expected a whole number from 0 to 65535/],
    ['--atol-latency-ms=-5', /--atol-latency-ms=-5/],
    ['--timezones=Europe/Moscow,Mars/Olympus', /--timezones: not this: Mars\/Olympus/],
    ['--endpoints=paper,papr', /--endpoints: not this: papr/],
    ['--tills=3', /Unknown option '--tills'/],
  ])('refuses %s', (arg, message) => {
    expect(() => simulatorArgs([arg])).toThrow(UsageError);
    expect(() => simulatorArgs([arg])).toThrow(message);
  });

  it('gives N healthy registers of each vendor, named apart', () => {
    const { spec } = simulatorArgs(['--ukm=3', '--atol=4', '--bk=2', '--kassa24=5']);
    expect(spec.ukm.map((r) => r.name)).toEqual(['pos00000', 'pos00001', 'pos00002']);
    expect(spec.ukm.every((r) => r.fault === undefined && r.state?.paper !== false && !r.state?.unsent)).toBe(true);
    expect(spec.atol?.registers).toHaveLength(4);
    expect(spec.businesskassa?.registers).toHaveLength(2);
    expect(spec.businesskassa?.circuits?.[0]?.frs).toHaveLength(2);
    expect(spec.kassa24?.registers).toHaveLength(5);
    expect(spec.tradingHours).toBeUndefined();
  });

  it('adds --ukm, --atol, --bk and --kassa24 registers to the --demo fleet, which keeps its cases', () => {
    const demo = simulatorArgs(['--demo']).spec;
    const { spec } = simulatorArgs(['--demo', '--ukm=2', '--atol=3', '--bk=4', '--kassa24=5']);
    expect(spec.ukm).toHaveLength(demo.ukm.length + 2);
    expect(spec.ukm.find((r) => r.name === 'msk-012-pos02')?.state?.paper).toBe(false);
    const serials = spec.atol?.registers.map((r) => r.serialNumber) ?? [];
    expect(serials).toHaveLength((demo.atol?.registers.length ?? 0) + 3);
    expect(new Set(serials).size).toBe(serials.length);
    expect(spec.atol?.registers[1]?.fiscalStoragePercentageUse).toBe(95.1);
    const bk = spec.businesskassa?.registers ?? [];
    expect(bk).toHaveLength((demo.businesskassa?.registers.length ?? 0) + 4);
    expect(new Set(bk.map((r) => r.sn)).size).toBe(bk.length);
    expect(new Set(bk.map((r) => r.eip)).size).toBe(bk.length);
    expect(spec.businesskassa?.circuits?.[0]?.frs.map((f) => f.eip)).toEqual(bk.map((r) => r.eip));
    const k24 = spec.kassa24?.registers.map((r) => r.id) ?? [];
    expect(k24).toHaveLength((demo.kassa24?.registers.length ?? 0) + 5);
    expect(new Set(k24).size).toBe(k24.length);
    expect(spec.tradingHours).toEqual(demo.tradingHours);
  });

  it('deals the generated tills over --timezones in turn', () => {
    const { spec } = simulatorArgs(['--ukm=3', '--timezones=Asia/Vladivostok,Asia/Almaty']);
    expect(spec.ukm.map((r) => r.timezone)).toEqual(['Asia/Vladivostok', 'Asia/Almaty', 'Asia/Vladivostok']);
  });

  it('starts the demo fleet when no count is given', () => {
    expect(simulatorArgs([]).spec.ukm.map((r) => r.name)).toEqual(simulatorArgs(['--demo']).spec.ukm.map((r) => r.name));
  });
});
