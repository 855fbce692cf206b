import { execFileSync } from 'node:child_process';
import { constants, openSync, closeSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { ConfigError, loadConfig as loadWithRules } from './load.js';
import { maskedYaml } from './mask.js';
import { CONFIG_RULES, SOURCE_TYPES } from '../sources/vendors.js';

const loadConfig = (file: string, env: NodeJS.ProcessEnv) => loadWithRules(file, CONFIG_RULES, env);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-config-test-'));
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const file = await write(`bad-${Math.random().toString(36).slice(2)}.yml`, text);
  try {
    await loadConfig(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  }
  throw new Error('config was accepted');
}

const GOOD = `
global:
  timezone: Asia/Almaty
  scrape_timeout: 15s
sources:
  - name: stores
    type: ukm
    endpoints: [paper, ofd]
    min_interval: 2s
    allowed_targets: [10.0.0.0/8, "fd00::/8"]
    registers:
      - { name: msk-012-pos03, url: "http://10.1.12.3:8080", labels: { store: "012" } }
`;

describe('loadConfig', () => {
  it('reads the contract example with durations in milliseconds and defaults filled in', async () => {
    const { config } = await loadConfig(await write('good.yml', GOOD), {});
    expect(config.global).toEqual({ timezone: 'Asia/Almaty', scrape_timeout: 15_000 });
    const s = config.sources[0];
    expect(s).toMatchObject({ name: 'stores', type: 'ukm', endpoints: ['paper', 'ofd'], min_interval: 2000, request_timeout: 3000 });
    expect(s?.type === 'ukm' && s.registers[0]).toEqual({ name: 'msk-012-pos03', url: 'http://10.1.12.3:8080', labels: { store: '012' } });
  });

  it('defaults: every endpoint in priority order, 1s spacing, Moscow time, 10s budget', async () => {
    const { config } = await loadConfig(await write('min.yml', 'sources:\n  - {name: a, type: ukm}\n'), {});
    expect(config.global).toEqual({ timezone: 'Europe/Moscow', scrape_timeout: 10_000 });
    expect(config.sources[0]).toMatchObject({
      endpoints: ['paper', 'ofd', 'last_receipt_time', 'downtime', 'user_role_id', 'vision', 'weight'],
      min_interval: 1000,
    });
  });

  it('reports an unknown key at its own line and column', async () => {
    expect(await problems('global:\n  timezone: Europe/Moscow\n  scrape_timout: 10s\n')).toEqual(['3:3: unknown key "scrape_timout"']);
  });

  it('reports every problem with the position of the offending value', async () => {
    const found = await problems(`sources:
  - name: stores
    type: ukm
    min_interval: 500ms
    endpoints: [paper, fuel]
    allowed_targets: [10.0.0.0/33]
    registers:
      - { name: a, url: "ftp://10.0.0.1" }
`);
    expect(found).toEqual([
      expect.stringMatching(/^4:19: sources\.0\.min_interval: must be at least 1s/),
      expect.stringMatching(/^5:24: sources\.0\.endpoints\.1: Invalid option: expected one of "paper"/),
      expect.stringMatching(/^6:23: sources\.0\.allowed_targets\.0: must be an IP network/),
      expect.stringMatching(/^8:25: sources\.0\.registers\.0\.url: must be an http/),
    ]);
  });

  it('names the unknown source type and the duplicate source name', async () => {
    expect(await problems('sources:\n  - {name: a, type: ukm}\n  - {name: b, type: fiscal}\n')).toEqual([
      `3:21: sources.1.type: unknown source type; expected one of: ${SOURCE_TYPES.join(', ')}`,
    ]);
    expect(await problems('sources:\n  - {name: a, type: ukm}\n  - {name: a, type: ukm}\n')).toEqual([
      '3:12: sources.1.name: duplicate source name "a"',
    ]);
  });

  it('reports YAML syntax errors with their position', async () => {
    const [first] = await problems('sources:\n  - name: a\n    type: [ukm\n');
    expect(first).toMatch(/^\d+:\d+: /);
  });

  it('refuses durations without a unit and unknown time zones', async () => {
    const found = await problems('global:\n  timezone: Mars/Olympus\n  scrape_timeout: 10\n');
    expect(found).toEqual([
      expect.stringMatching(/^2:13: global\.timezone: unknown time zone/),
      expect.stringMatching(/^3:19: global\.scrape_timeout: "10" is not a duration/),
    ]);
  });

  it('expands ${ENV} and reports an unset variable where it is used', async () => {
    const text = 'sources:\n  - name: "${SRC}"\n    type: ukm\n    registers: [{name: r, url: "http://${HOST}:8080"}]\n';
    const { config } = await loadConfig(await write('env.yml', text), { SRC: 'stores', HOST: '10.1.1.1' });
    expect(config.sources[0]?.name).toBe('stores');
    expect(config.sources[0]?.type === 'ukm' && config.sources[0].registers[0]?.url).toBe('http://10.1.1.1:8080');
    expect(await problems(text, { SRC: 'x' })).toEqual(['4:32: environment variable HOST is not set']);
  });

  it('keeps $$ as a literal dollar', async () => {
    const text = 'sources:\n  - name: s\n    type: ukm\n    registers: [{name: r, url: "http://10.0.0.1", labels: {note: "a$$b"}}]\n';
    const { config } = await loadConfig(await write('dollar.yml', text), {});
    expect(config.sources[0]?.type === 'ukm' && config.sources[0].registers[0]?.labels).toEqual({ note: 'a$b' });
  });

  it('merges registers_file (relative to the config) and reports its problems in that file', async () => {
    await write('regs.yml', '- { name: r2, url: "http://10.0.0.2:8080" }\n- { name: r3, url: "http://10.0.0.3:8080", labels: { store: "7" } }\n');
    const file = await write('with-file.yml', 'sources:\n  - name: s\n    type: ukm\n    registers: [{name: r1, url: "http://10.0.0.1:8080"}]\n    registers_file: regs.yml\n');
    const { config } = await loadConfig(file, {});
    const s = config.sources[0];
    expect(s?.type === 'ukm' && s.registers.map((r) => r.name)).toEqual(['r1', 'r2', 'r3']);

    await write('bad-regs.yml', 'registers:\n  - { name: r2, url: "http://10.0.0.2:8080", colour: red }\n');
    const bad = await write('with-bad-file.yml', 'sources:\n  - name: s\n    type: ukm\n    registers_file: bad-regs.yml\n');
    await expect(loadConfig(bad, {})).rejects.toThrow(/bad-regs\.yml:2:46: unknown key "colour"/);
  });

  it('refuses static labels that clash with the exporter\'s own', async () => {
    const found = await problems('sources:\n  - name: s\n    type: ukm\n    registers: [{name: r, url: "http://10.0.0.1", labels: {kkt: x}}]\n');
    expect(found).toEqual(['4:65: sources.0.registers.0.labels.kkt: label "kkt" is set by the exporter itself (a duplicate label would make Prometheus drop the whole scrape): rename it']);
  });

  it('reports a missing file at 1:1 and names the flags that fix it', async () => {
    await expect(loadConfig(join(dir, 'nope.yml'), {})).rejects.toThrow(/nope\.yml:1:1: config file not found \(ENOENT\).*--config\.file.*--demo/);
  });

  it('refuses a YAML alias bomb at its first alias, in the file it is in', async () => {
    const level = (name: string, item: string) => `${name}: &${name} [${Array(10).fill(item).join(', ')}]\n`;
    const bomb = level('a', 'x') + ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((n, i) => level(n, `*${'abcdefgh'[i]}`)).join('');
    const file = await write('bomb.yml', bomb);
    await expect(loadConfig(file, {})).rejects.toThrow(new RegExp(`^${file}:2:8: YAML aliases expand more than 10000 times .*; write the repeated parts out`));
    await write('regs-bomb.yml', bomb);
    const main = await write('with-bomb.yml', 'sources:\n  - {name: s, type: ukm, registers_file: regs-bomb.yml}\n');
    await expect(loadConfig(main, {})).rejects.toThrow(/regs-bomb\.yml:2:8: YAML aliases expand more than 10000 times/);
    expect(await problems('global: {timezone: *zone}\n')).toEqual(['1:20: Unresolved alias (the anchor must be set before the alias): zone']);
  });

  it('accepts an anchor used once per register in a large fleet', async () => {
    const regs = Array.from({ length: 300 }, (_, i) => `      - {name: r${i}, url: "http://10.0.${i >> 8}.${i & 255}:8080", labels: *std}\n`).join('');
    const text = `sources:\n  - name: s\n    type: ukm\n    registers:\n      - {name: first, url: "http://10.1.0.1:8080", labels: &std {chain: msk}}\n${regs}`;
    const { config } = await loadConfig(await write('anchors.yml', text), {});
    expect(config.sources[0]?.type === 'ukm' && config.sources[0].registers[300]?.labels).toEqual({ chain: 'msk' });
  });

  it('reports a duplicate register name once, where the duplicate is written', async () => {
    await write('dup-regs.yml', '- { name: r2, url: "http://10.0.0.2:8080" }\n- { name: r1, url: "http://10.0.0.3:8080" }\n');
    const file = await write('dup.yml', 'sources:\n  - name: s\n    type: ukm\n    registers: [{name: r1, url: "http://10.0.0.1:8080"}]\n    registers_file: dup-regs.yml\n');
    const err = await loadConfig(file, {}).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`)).toEqual([
      `${join(dir, 'dup-regs.yml')}:2:11: duplicate register name "r1" in source "s" (first at ${file}:4:24)`,
    ]);
    expect(await problems('sources:\n  - name: s\n    type: ukm\n    registers:\n      - {name: a, url: "http://10.0.0.1"}\n      - {name: a, url: "http://10.0.0.2"}\n')).toEqual([
      expect.stringMatching(/^6:16: duplicate register name "a" in source "s" \(first at .*:5:16\)$/),
    ]);
  });

  it('reports duplicate register and source names together with the schema errors, in one check', async () => {
    const found = await problems(`sources:
  - name: s
    type: ukm
    min_interval: 500ms
    registers:
      - {name: a, url: "http://10.0.0.1"}
      - {name: a, url: "http://10.0.0.2"}
      - {name: b, url: "ftp://10.0.0.3"}
  - {name: s, type: ukm}
`);
    expect(found).toEqual([
      expect.stringMatching(/^4:19: sources\.0\.min_interval: must be at least 1s/),
      expect.stringMatching(/^7:16: duplicate register name "a" in source "s" \(first at .*:6:16\)$/),
      expect.stringMatching(/^8:24: sources\.0\.registers\.2\.url: must be an http/),
      '9:12: sources.1.name: duplicate source name "s"',
    ]);
    // And in a registers_file, whether the schema errors are in it or in the config.
    await write('dup-bad-regs.yml', '- { name: r1, url: "http://10.0.0.2:8080" }\n- { name: r1, url: "http://10.0.0.3:8080", colour: red }\n- { name: r1, url: "http://10.0.0.4:8080" }\n');
    const file = await write('dup-bad.yml', 'sources:\n  - name: s\n    type: ukm\n    min_interval: 500ms\n    registers_file: dup-bad-regs.yml\n');
    const err = await loadConfig(file, {}).then(() => undefined, (e: unknown) => e);
    expect((err as ConfigError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`)).toEqual([
      `${join(dir, 'dup-bad-regs.yml')}:2:44: unknown key "colour"`,
      `${join(dir, 'dup-bad-regs.yml')}:3:11: duplicate register name "r1" in source "s" (first at ${join(dir, 'dup-bad-regs.yml')}:1:11)`,
      expect.stringMatching(new RegExp(`^${file}:4:19: sources\\.0\\.min_interval: must be at least 1s`)),
    ]);
  });

  it('says that a registers file is empty, at its 1:1', async () => {
    for (const [name, text] of [['empty-regs.yml', ''], ['comment-regs.yml', '# the stores of region 7, to come\n']] as const) {
      await write(name, text);
      const file = await write('with-empty.yml', `sources:\n  - {name: s, type: ukm, registers_file: ${name}}\n`);
      const err = await loadConfig(file, {}).then(() => undefined, (e: unknown) => e);
      expect((err as ConfigError).message).toBe(
        `${join(dir, name)}:1:1: registers file is empty: list the registers of source "s" in it (a YAML list, or a map with \`registers:\`), or drop its registers_file`,
      );
    }
  });

  it('refuses one register under two names, however its URL is spelt, at the later one: in any source or registers_file', async () => {
    const twice = (a: string, b: string) => `sources:\n  - name: s\n    type: ukm\n    registers:\n      - {name: a, url: "${a}"}\n      - {name: b, url: "${b}"}\n`;
    const sameAddress = (address: string) => {
      const spelt = address.replace(/[.[\]/]/g, '\\$&');
      return new RegExp(`^6:24: register "b" of source "s" reaches the same register \\(address ${spelt}\\) as register "a" of source "s" \\(first at .*:5:24\\): one register under two names would share one rate gate and one read; list it once$`);
    };
    for (const [a, b, address] of [
      ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080/'],
      ['http://LOCALHOST:80', 'http://localhost', 'http://localhost:80/'],
      ['http://127.0.0.1:8080', 'http://127.1:8080', 'http://127.0.0.1:8080/'],
      ['http://10.0.0.1:8080', 'http://[::ffff:10.0.0.1]:8080', 'http://10.0.0.1:8080/'],
      ['http://[FD00::1]:8080/ukm', 'http://[fd00:0::1]:8080/ukm/', 'http://[fd00::1]:8080/ukm/'],
    ]) {
      expect(await problems(twice(a as string, b as string)), `${a} and ${b}`).toEqual([expect.stringMatching(sameAddress(address as string))]);
    }
    // Another port, scheme or base path is another register (registers behind one gateway).
    for (const [a, b] of [['http://10.0.0.1:8080', 'http://10.0.0.1:8081'], ['http://10.0.0.1', 'https://10.0.0.1'], ['http://10.0.0.1/t1', 'http://10.0.0.1/t2']]) {
      await expect(loadConfig(await write('distinct.yml', twice(a as string, b as string)), {})).resolves.toBeDefined();
    }
    await write('dup-address-regs.yml', '- { name: r2, url: "http://10.0.0.2:8080" }\n');
    const file = await write('dup-address.yml', 'sources:\n  - {name: s, type: ukm, registers: [{name: r1, url: "http://10.0.0.2:8080"}]}\n  - {name: t, type: ukm, registers_file: dup-address-regs.yml}\n');
    const err = await loadConfig(file, {}).then(() => undefined, (e: unknown) => e);
    expect((err as ConfigError).message).toBe(
      `${join(dir, 'dup-address-regs.yml')}:1:20: register "r2" of source "t" reaches the same register (address http://10.0.0.2:8080/) as register "r1" of source "s" (first at ${file}:2:54): one register under two names would share one rate gate and one read; list it once`,
    );
  });
});

describe('files that are not regular files, or too large', () => {
  const fifos: string[] = [];
  async function fifo(name: string): Promise<string> {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    fifos.push(path);
    return path;
  }
  // Releases a reader stuck on a FIFO (as the code before the fix was), so a failure cannot hang the run.
  afterAll(() => {
    for (const path of fifos) {
      try {
        closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }
  });

  it('refuses a FIFO as a secret file instead of waiting for a writer', { timeout: 5000 }, async () => {
    await fifo('secret-pipe');
    const found = await problems('sources:\n  - name: a\n    type: atol\n    login: x\n    password_file: secret-pipe\n');
    expect(found).toEqual([`5:20: cannot read password_file ${join(dir, 'secret-pipe')}: not a regular file (a named pipe)`]);
  });

  it('refuses a FIFO as registers_file or as the config file', { timeout: 5000 }, async () => {
    await fifo('regs-pipe.yml');
    const file = await write('with-pipe.yml', 'sources:\n  - {name: s, type: ukm, registers_file: regs-pipe.yml}\n');
    await expect(loadConfig(file, {})).rejects.toThrow(/regs-pipe\.yml:1:1: cannot read file: not a regular file \(a named pipe\)/);
    const config = await fifo('config-pipe.yml');
    await expect(loadConfig(config, {})).rejects.toThrow(/config-pipe\.yml:1:1: cannot read file: not a regular file \(a named pipe\)/);
    await expect(loadConfig(dir, {})).rejects.toThrow(/:1:1: cannot read file: not a regular file \(a directory\)/);
  });

  it('refuses a secret file over 64 KiB and a config file over 16 MiB', async () => {
    await write('big-secret', 'x'.repeat(64 * 1024 + 1));
    const found = await problems('sources:\n  - name: a\n    type: atol\n    login: x\n    password_file: big-secret\n');
    expect(found).toEqual([`5:20: cannot read password_file ${join(dir, 'big-secret')}: larger than 64 KiB, the limit for a secret file`]);
    const big = await write('big.yml', `# ${'x'.repeat(16 * 1024 * 1024)}\n`);
    await expect(loadConfig(big, {})).rejects.toThrow(/big\.yml:1:1: cannot read file: larger than 16 MiB, the limit for a config file/);
  });
});

describe('ATOL source config', () => {
  it('reads the password from password_file, relative to the config, and fills defaults', async () => {
    await write('atol-pass', 'v2ApscRjr\n');
    const { config } = await loadConfig(await write('atol.yml', 'sources:\n  - name: atol-cloud\n    type: atol\n    login: neletest\n    password_file: atol-pass\n'), {});
    expect(config.sources[0]).toEqual({
      name: 'atol-cloud', type: 'atol', url: 'https://online.atol.ru', login: 'neletest', password: 'v2ApscRjr', page_size: 100, page_concurrency: 16, max_registers: 100000, probe_only: false,
    });
  });

  it('requires a password, refuses both forms at once, and bounds page_size to 1..100', async () => {
    expect(await problems('sources:\n  - name: a\n    type: atol\n    login: x\n')).toEqual(['2:5: sources.0.password: password (or password_file) is required']);
    await write('pw', 'x');
    expect(await problems('sources:\n  - {name: a, type: atol, login: x, password: y, password_file: pw}\n')).toEqual([
      '2:50: set either password or password_file, not both',
    ]);
    expect(await problems('sources:\n  - {name: a, type: atol, login: x, password: y, page_size: 101}\n')).toEqual([
      expect.stringMatching(/^2:61: sources\.0\.page_size: Too big/),
    ]);
  });

  it('reports an unreadable password_file at its key, naming the file', async () => {
    const found = await problems('sources:\n  - name: a\n    type: atol\n    login: x\n    password_file: /nonexistent/secret\n');
    expect(found).toEqual(['5:20: cannot read password_file /nonexistent/secret: ENOENT']);
  });
});

describe('BusinessKassa source config', () => {
  it('reads the session cookie from cookie_file and defaults the time zone to global', async () => {
    await write('bk-cookie', 'bkapisessionid=abc\n');
    const { config } = await loadConfig(await write('bk.yml', 'sources:\n  - name: bk\n    type: businesskassa\n    url: http://10.55.0.2:8080/v1\n    auth: { cookie_file: bk-cookie }\n'), {});
    expect(config.sources[0]).toMatchObject({ url: 'http://10.55.0.2:8080/v1', auth: { cookie: 'bkapisessionid=abc' }, circuits: [] });
    expect(config.sources[0]).not.toHaveProperty('timezone');
  });

  it('refuses two kinds of credentials at once', async () => {
    const found = await problems('sources:\n  - name: bk\n    type: businesskassa\n    url: http://x/v1\n    auth: { cookie: a, bearer_token: b }\n');
    expect(found).toEqual([expect.stringMatching(/^5:11: sources\.0\.auth: use one of cookie, bearer_token or basic_auth/)]);
  });
});

describe('files a config names', () => {
  it('names a missing secret or TLS file at its key, resolved against the config\'s folder', async () => {
    const found = await problems(`sources:
  - name: bk
    type: businesskassa
    url: http://10.55.0.2:8080/v1
    auth: { cookie_file: secrets/bk-cookie }
    tls: { ca_file: tls/ca.pem, key_file: /nonexistent/client.key }
`);
    expect(found).toEqual([
      `5:26: cannot read cookie_file ${join(dir, 'secrets/bk-cookie')}: ENOENT`,
      `6:21: cannot read ca_file ${join(dir, 'tls/ca.pem')}: ENOENT`,
      '6:43: cannot read key_file /nonexistent/client.key: ENOENT',
    ]);
  });

  it('reads TLS files relative to the config\'s folder, as secret files are, whatever the working directory', async () => {
    await write('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const { config } = await loadConfig(await write('tls.yml', 'sources:\n  - {name: a, type: atol, login: x, password: y, tls: {ca_file: ca.pem}}\n'), {});
    expect(config.sources[0]?.tls).toEqual({ ca_file: join(dir, 'ca.pem'), insecure_skip_verify: false });
  });
});

describe('secrets', () => {
  it('masks secret keys and header values in debug output', () => {
    const out = maskedYaml({ name: 'x', password: 'hunter2', auth: { cookie: 'bkapisessionid=abc', headers: { 'X-Key': 'k1' } } });
    expect(out).not.toMatch(/hunter2|abc|k1/);
    expect(out).toContain('password: <secret>');
    expect(out).toContain('X-Key: <secret>');
  });
});

describe('parseDuration', () => {
  it.each([
    ['1s', 1000],
    ['500ms', 500],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['0', 0],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '1', '1.5s', 's', '1m1h', '-1s'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
});
