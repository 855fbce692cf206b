import { createHash } from 'node:crypto';

/**
 * Which part of the fleet this process serves, out of `count` processes sharing one config
 * (`--shard=index/count`). A register read one by one belongs to the shard picked by a hash of
 * `source/kkt` alone, and a source read as one fleet list to the shard picked by a hash of its
 * name: ownership depends on nothing but the name hashed, so adding or removing a register never
 * moves another one (only changing the number of shards does).
 */
export class Shard {
  static readonly ALL = new Shard(1, 1);

  constructor(readonly index: number, readonly count: number) {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count) {
      throw new Error(`shard must be K/N with 1 <= K <= N, got ${index}/${count}`);
    }
  }

  /** `K/N`, as `--shard` takes it. */
  static parse(text: string): Shard {
    const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text);
    if (!m) throw new Error(`--shard must be K/N (for example 2/3), got "${text}"`);
    return new Shard(Number(m[1]), Number(m[2]));
  }

  toString(): string {
    return `${this.index}/${this.count}`;
  }

  /** The shard (1..count) that owns `key`: a register's `source/kkt`, or a fleet source's name. */
  ownerOf(key: string): number {
    if (this.count === 1) return 1;
    return (createHash('sha256').update(key).digest().readUInt32BE(0) % this.count) + 1;
  }

  owns(key: string): boolean {
    return this.ownerOf(key) === this.index;
  }

  /** The key of a register read one by one. */
  static registerKey(source: string, kkt: string): string {
    return `${source}/${kkt}`;
  }
}

/** One source's view of the shard: whether it owns a register, and which shard does. */
export interface SourceShard {
  owns(kkt: string): boolean;
  /** `K/N` of the shard that owns the register. */
  ownerOf(kkt: string): string;
}

/** Every register: a source of the only shard, or one read as a whole by the shard that owns it. */
export const OWNS_ALL: SourceShard = { owns: () => true, ownerOf: () => '1/1' };

export function sourceShard(shard: Shard, source: string): SourceShard {
  return {
    owns: (kkt) => shard.owns(Shard.registerKey(source, kkt)),
    ownerOf: (kkt) => `${shard.ownerOf(Shard.registerKey(source, kkt))}/${shard.count}`,
  };
}
