import { describe, expect, it } from 'vitest';
import { Shard } from './shard.js';

const names = (n: number, prefix = 'pos') => Array.from({ length: n }, (_, i) => Shard.registerKey('stores', `${prefix}${String(i).padStart(5, '0')}`));

describe('Shard', () => {
  it('parses K/N and refuses anything else', () => {
    expect(Shard.parse('2/3')).toMatchObject({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', '1', '1/2/3', 'a/b', '-1/2', '1.5/2']) expect(() => Shard.parse(bad), bad).toThrow();
  });

  it('gives every key exactly one owner, and 1/1 owns everything', () => {
    const shards = [1, 2, 3].map((k) => new Shard(k, 3));
    for (const key of names(2000)) expect(shards.filter((s) => s.owns(key))).toHaveLength(1);
    expect(names(100).every((k) => Shard.ALL.owns(k))).toBe(true);
  });

  it('balances 10,000 registers over 3 shards within 5 % of an even share', () => {
    const counts = [0, 0, 0];
    const shard = new Shard(1, 3);
    for (const key of names(10_000)) counts[shard.ownerOf(key) - 1]! += 1;
    for (const c of counts) expect(Math.abs(c - 10_000 / 3) / (10_000 / 3)).toBeLessThan(0.05);
  });

  it('moves no other register when one is added or removed', () => {
    const shard = new Shard(1, 4);
    const before = new Map(names(1000).map((k) => [k, shard.ownerOf(k)]));
    const after = new Map([...names(999), ...names(1, 'new')].map((k) => [k, shard.ownerOf(k)]));
    for (const [k, owner] of after) if (before.has(k)) expect(owner).toBe(before.get(k));
  });

  it('puts a fleet source, by its name, on exactly one shard', () => {
    const shards = [1, 2, 3].map((k) => new Shard(k, 3));
    for (const name of ['atol-cloud', 'bk', 'another-fleet']) expect(shards.filter((s) => s.owns(name))).toHaveLength(1);
  });
});
