import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { csvRegisterLabels, RegisterLabels } from './register-labels.js';
import { SECRET_KEYS, TLS_FILE_KEYS, type RegisterLabelsSchema } from './schema.js';

/** One problem in a config file, located for a `file:line:col: message` report. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${placeOf(p)}: ${p.message}`;
}

function placeOf(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}`;
}

/** What loading needs to know of the sources a config lists; more is the schema's business. */
export interface LoadableConfig {
  sources: Array<{ name: string; type: string }>;
}

export interface LoadedConfig<C extends LoadableConfig> {
  file: string;
  config: C;
}

/** A source type's registers file (a list, or `{registers: [...]}`). */
type RegistersFileSchema = z.ZodType<Array<{ name: string }> | { registers: Array<{ name: string }> }>;

/** What loading checks beyond the schema for the sources of one type. */
export interface SourceKind {
  /**
   * The schema of its `registers_file`, for a type whose registers are configured one by one;
   * its config then has `registers` and `registers_file`.
   */
  readonly registersFile?: RegistersFileSchema;
  /**
   * A configured register's address, as its config spells it (no DNS): two registers of any sources
   * of this type with one are one register under two names, a config error.
   */
  addressOf?(register: { name: string }): string;
  /**
   * What the first column of a CSV `register_labels_file` may be named: the register's identity,
   * the value of its `kkt` label (the first name is the one suggested).
   */
  readonly identityColumns: readonly [string, ...string[]];
}

/**
 * What a config file is checked against, given by whoever knows the source types (the vendor
 * list): config depends on nothing above it.
 */
export interface ConfigRules<C extends LoadableConfig> {
  readonly schema: z.ZodType<C>;
  /** A `register_labels_file`'s data, refusing the label names the exporter sets. */
  readonly registerLabels: RegisterLabelsSchema;
  kindOf(type: string): SourceKind;
}

type Path = ReadonlyArray<string | number>;

/**
 * Alias expansions allowed in one file (yaml's maxAliasCount, default 100): enough to reuse an
 * anchor across a large fleet, far too few for a "billion laughs" of aliases of aliases.
 */
const MAX_ALIAS_COUNT = 10_000;

/** A parsed YAML file that can tell where any path in it starts. */
export class YamlFile {
  readonly lines = new LineCounter();
  readonly doc: Document;

  /** `failsafe`: every scalar is the string written (`012` stays "012"), for a file of plain data. */
  constructor(readonly file: string, text: string, failsafe = false) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, ...(failsafe ? { schema: 'failsafe' as const } : {}) });
  }

  /** The document as plain data; a runaway or unresolved alias is reported at its alias. */
  toJS(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      if (err instanceof ReferenceError) throw new ConfigError([this.aliasProblem(err.message)]);
      throw err;
    }
  }

  /** yaml's alias error, at the alias it names or else the first one. */
  private aliasProblem(reason: string): ConfigProblem {
    const unresolved = /^Unresolved alias.*: (.+)$/.exec(reason)?.[1];
    let at: Alias | undefined;
    visit(this.doc, {
      Alias: (_key, node) => {
        if (unresolved !== undefined && node.source !== unresolved) return;
        at = node;
        return visit.BREAK;
      },
    });
    const message = reason.startsWith('Excessive alias count')
      ? `YAML aliases expand more than ${MAX_ALIAS_COUNT} times (aliases of aliases multiply, as in a "billion laughs"); write the repeated parts out or nest fewer aliases`
      : reason;
    const pos = this.lines.linePos(at?.range?.[0] ?? 0);
    return { file: this.file, line: pos.line, col: pos.col, message };
  }

  syntaxProblems(): ConfigProblem[] {
    return this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0]);
      return { file: this.file, line: pos.line, col: pos.col, message: e.message.split('\n')[0] ?? e.message };
    });
  }

  /** The problem located at `path`, or at the nearest ancestor the file has; `key` points at a map key. */
  problemAt(path: Path, message: string, key?: string): ConfigProblem {
    let offset = 0;
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node?.range) {
        offset = node.range[0];
        if (key !== undefined && isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
          if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
        }
        break;
      }
    }
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col, message };
  }

  private hasKey(path: Path, key: string): boolean {
    const node = this.doc.getIn(path, true);
    return isMap(node) && node.items.some((p) => isScalar(p.key) && p.key.value === key);
  }

  /** Expands `${NAME}` in every string scalar; `$$` stands for a literal `$`. */
  expandEnv(env: NodeJS.ProcessEnv): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    visit(this.doc, {
      Scalar: (_key, node) => {
        if (typeof node.value !== 'string' || !node.value.includes('$')) return;
        node.value = node.value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string | undefined) => {
          if (name === undefined) return '$';
          const value = env[name];
          if (value === undefined) {
            const pos = this.lines.linePos(node.range?.[0] ?? 0);
            problems.push({ file: this.file, line: pos.line, col: pos.col, message: `environment variable ${name} is not set` });
            return match;
          }
          return value;
        });
      },
    });
    return problems;
  }

  zodProblems(error: z.ZodError, prefix: Path = []): ConfigProblem[] {
    return error.issues.flatMap((issue) => {
      const path = [...prefix, ...(issue.path as Array<string | number>)];
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => {
          const shown = this.hasKey(path, k) || !this.hasKey(path, `${k}_file`) ? k : `${k}_file`;
          return this.problemAt(path, `unknown key "${shown}"`, shown);
        });
      }
      const where = path.length > 0 ? `${path.join('.')}: ` : '';
      return [this.problemAt(path, `${where}${issue.message}`)];
    });
  }
}

/** The most a file may hold; anything bigger is a mistake (or an attack), not a config. */
const CONFIG_LIMIT = { bytes: 16 * 1024 * 1024, text: '16 MiB, the limit for a config file' };
const SECRET_LIMIT = { bytes: 64 * 1024, text: '64 KiB, the limit for a secret file' };
/** A CA bundle may hold every public root (Debian's is about 220 KB). */
export const TLS_FILE_LIMIT = { bytes: 1024 * 1024, text: '1 MiB, the limit for a certificate, key or CA file' };

/** A file that is there but is not one a config may read. */
class UnreadableFile extends Error {}

/**
 * The text of a regular file of at most `limit` bytes. Opened without blocking and checked before
 * reading: a FIFO would otherwise wait forever for a writer, and a device might never end.
 */
export async function readTextFile(path: string, limit: { bytes: number; text: string }): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UnreadableFile(`not a regular file (${kindOf(stat)})`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.alloc(64 * 1024) });
      if (bytesRead === 0) return Buffer.concat(chunks, total).toString('utf8');
      total += bytesRead;
      if (total > limit.bytes) throw new UnreadableFile(`larger than ${limit.text}`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'a device';
}

/** Why a file could not be read: the errno code, or what is wrong with the file. */
export function whyUnreadable(err: unknown): string {
  if (err instanceof UnreadableFile) return err.message;
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

export interface YamlReadOptions {
  /** The most the file may hold; default the config file's. */
  limit?: { bytes: number; text: string };
  /** `${VAR}`s are expanded from it when given. */
  env?: NodeJS.ProcessEnv;
  /** Replaces the message for a file that does not exist. */
  whenMissing?: string;
}

/** A YAML file read and its syntax checked, problems at `file:line:col`; an empty file's value is null. */
export async function readYaml(file: string, { limit = CONFIG_LIMIT, env, whenMissing }: YamlReadOptions = {}): Promise<{ yaml: YamlFile; value: unknown }> {
  let text: string;
  try {
    text = await readTextFile(file, limit);
  } catch (err) {
    const reason = whyUnreadable(err);
    const message = reason === 'ENOENT' && whenMissing !== undefined ? whenMissing : `cannot read file: ${reason}`;
    throw new ConfigError([{ file, line: 1, col: 1, message }]);
  }
  const yaml = new YamlFile(file, text);
  const syntax = yaml.syntaxProblems();
  if (syntax.length > 0) throw new ConfigError(syntax);
  const envProblems = env ? yaml.expandEnv(env) : [];
  if (envProblems.length > 0) throw new ConfigError(envProblems);
  return { yaml, value: yaml.toJS() };
}

async function readSecretFile(path: string): Promise<string> {
  return (await readTextFile(path, SECRET_LIMIT)).replace(/\r?\n$/, '');
}

/** The problem of a file a config names that cannot be read: at its value, with the key and the path read. */
function unreadableFileProblem(yaml: YamlFile, at: Path, key: string, file: string, err: unknown): ConfigProblem {
  return yaml.problemAt(at, `cannot read ${key} ${file}: ${whyUnreadable(err)}`);
}

/**
 * Replaces every `<secret>_file` with the file's content under `<secret>`, and makes every file a
 * `tls` block names absolute, checking that it can be read, in place; each relative to `baseDir`.
 */
async function resolveSecretFiles(node: unknown, path: Path, yaml: YamlFile, baseDir: string, problems: ConfigProblem[]): Promise<void> {
  if (Array.isArray(node)) {
    await Promise.all(node.map((item, i) => resolveSecretFiles(item, [...path, i], yaml, baseDir, problems)));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const secret = SECRET_KEYS.find((s) => key === `${s}_file`);
    const value = obj[key];
    if (secret && typeof value === 'string') {
      if (obj[secret] !== undefined) {
        problems.push(yaml.problemAt(path, `set either ${secret} or ${key}, not both`, key));
        delete obj[key];
        continue;
      }
      const file = resolve(baseDir, value);
      try {
        obj[secret] = await readSecretFile(file);
      } catch (err) {
        problems.push(unreadableFileProblem(yaml, [...path, key], key, file, err));
        obj[secret] = '<unreadable>'; // reported above; keeps validation from also calling it missing
      }
      delete obj[key];
    } else if (path.at(-1) === 'tls' && TLS_FILE_KEYS.some((k) => k === key) && typeof value === 'string') {
      const file = resolve(baseDir, value);
      obj[key] = file;
      await readTextFile(file, TLS_FILE_LIMIT).catch((err: unknown) => problems.push(unreadableFileProblem(yaml, [...path, key], key, file, err)));
    } else {
      await resolveSecretFiles(value, [...path, key], yaml, baseDir, problems);
    }
  }
}

/**
 * Registers as written in one file, with the path of their list in it. Where the list did not pass
 * its schema, a register that is invalid on its own is undefined (its problem is reported already):
 * the others are still checked for names and addresses, so one check lists every problem.
 */
interface RegisterList {
  registers: Array<{ name: string } | undefined>;
  yaml: YamlFile;
  path: Path;
}

/** A registers file's registers, as a list or under `registers:`. */
function registersOf(file: Array<{ name: string }> | { registers: Array<{ name: string }> }): Array<{ name: string }> {
  return Array.isArray(file) ? file : file.registers;
}

/** Each item of a list that failed its schema, parsed on its own; undefined where it is invalid. */
function validRegisters(items: unknown, schema: RegistersFileSchema): Array<{ name: string } | undefined> {
  if (!Array.isArray(items)) return [];
  return items.map((item: unknown) => {
    const parsed = schema.safeParse([item]);
    return parsed.success ? registersOf(parsed.data)[0] : undefined;
  });
}

async function loadRegistersFile(file: string, schema: RegistersFileSchema, env: NodeJS.ProcessEnv, source: string): Promise<{ list?: RegisterList; problems: ConfigProblem[] }> {
  const { yaml, value } = await readYaml(file, { env });
  if (value === null || value === undefined) {
    const message = `registers file is empty: list the registers of source "${source}" in it (a YAML list, or a map with \`registers:\`), or drop its registers_file`;
    return { problems: [{ file, line: 1, col: 1, message }] };
  }
  const path = Array.isArray(value) ? [] : ['registers'];
  const parsed = schema.safeParse(value);
  if (parsed.success) return { list: { registers: registersOf(parsed.data), yaml, path }, problems: [] };
  const items = Array.isArray(value) ? value : (value as { registers?: unknown }).registers;
  return { list: { registers: validRegisters(items, schema), yaml, path }, problems: yaml.zodProblems(parsed.error) };
}

/** A source whose registers are configured one by one, as the schema left it (or as written, its valid registers). */
type SourceWithRegisters = { name: string; type: string; registers: Array<{ name: string } | undefined>; registers_file?: string };

type KindOf = ConfigRules<LoadableConfig>['kindOf'];

/** A source type's registers file schema; none for a type without one, or for an unknown type (a schema error). */
function registersFileOf(kindOf: KindOf, type: string): RegistersFileSchema | undefined {
  try {
    return kindOf(type).registersFile;
  } catch {
    return undefined;
  }
}

/**
 * The sources of a config that failed its schema, as written, each with its registers valid on
 * their own (see RegisterList): their names and addresses are checked all the same.
 */
function sourcesAsWritten(value: unknown, kindOf: KindOf): Array<SourceWithRegisters | undefined> {
  const sources = (value as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return [];
  return sources.map((s: unknown) => {
    const { name, type, registers, registers_file: file } = (s ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof type !== 'string') return undefined;
    const schema = registersFileOf(kindOf, type);
    if (!schema) return undefined;
    return { name, type, registers: validRegisters(registers, schema), registers_file: typeof file === 'string' ? file : undefined };
  });
}

async function mergeRegistersFiles(sources: ReadonlyArray<{ name: string; type: string } | undefined>, kindOf: KindOf, yaml: YamlFile, baseDir: string, env: NodeJS.ProcessEnv): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const addresses = new AddressesSeen();
  for (const [i, sourceConfig] of sources.entries()) {
    if (!sourceConfig) continue;
    const kind = kindOf(sourceConfig.type);
    const schema = kind.registersFile;
    if (!schema) continue;
    const source = sourceConfig as SourceWithRegisters;
    const lists: RegisterList[] = [{ registers: source.registers, yaml, path: ['sources', i, 'registers'] }];
    if (source.registers_file) {
      try {
        const loaded = await loadRegistersFile(resolve(baseDir, source.registers_file), schema, env, source.name);
        problems.push(...loaded.problems);
        if (loaded.list) lists.push(loaded.list);
      } catch (err) {
        if (err instanceof ConfigError) problems.push(...err.problems);
        else throw err;
      }
    }
    source.registers = lists.flatMap((l) => l.registers);
    problems.push(...duplicateNames(source.name, lists), ...addresses.duplicates(source, kind, lists));
  }
  return problems;
}

/**
 * The addresses the registers of every source reach, as their URLs spell them: one register listed
 * under two names would be two registers sharing one rate gate and one read, its series twice.
 * Spellings that differ but resolve to one address are not looked up here (a config check does
 * not depend on DNS); at run time they share one gate and one read all the same.
 */
class AddressesSeen {
  private readonly seen = new Map<string, { yaml: YamlFile; path: Path; name: string; source: string }>();

  duplicates(source: SourceWithRegisters, kind: SourceKind, lists: RegisterList[]): ConfigProblem[] {
    const addressOf = kind.addressOf;
    if (!addressOf) return [];
    const problems: ConfigProblem[] = [];
    for (const { registers, yaml, path } of lists) {
      registers.forEach((r, j) => {
        if (!r) return;
        const address = addressOf(r);
        const key = `${source.type}:${address}`;
        const here = { yaml, path: [...path, j, 'url'], name: r.name, source: source.name };
        const first = this.seen.get(key);
        if (!first) return void this.seen.set(key, here);
        const firstAt = placeOf(first.yaml.problemAt(first.path, ''));
        const message = `register "${r.name}" of source "${source.name}" reaches the same register (address ${address}) as register "${first.name}" of source "${first.source}" (first at ${firstAt}): one register under two names would share one rate gate and one read; list it once`;
        problems.push(yaml.problemAt(here.path, message));
      });
    }
    return problems;
  }
}

/** A problem at each register named like an earlier one of the source, in the file that has it. */
function duplicateNames(source: string, lists: RegisterList[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, { yaml: YamlFile; path: Path }>();
  for (const { registers, yaml, path } of lists) {
    registers.forEach((r, j) => {
      if (!r) return;
      const here = { yaml, path: [...path, j, 'name'] };
      const first = seen.get(r.name);
      if (!first) return void seen.set(r.name, here);
      const firstAt = placeOf(first.yaml.problemAt(first.path, ''));
      problems.push(yaml.problemAt(here.path, `duplicate register name "${r.name}" in source "${source}" (first at ${firstAt})`));
    });
  }
  return problems;
}

/** A source's config as loading reads its `register_labels_file`. */
type LabelledSource = { name: string; type: string; register_labels_file?: string; register_labels?: RegisterLabels; registers?: Array<{ name: string; labels?: Record<string, string> }> };

/**
 * Reads each source's `register_labels_file`. A source whose registers are configured one by one
 * has the file's labels merged under each register's own (which win); one whose vendor lists its
 * registers keeps them as `register_labels`, applied to each register the vendor lists.
 */
async function readRegisterLabelsFiles(config: LoadableConfig, rules: Pick<ConfigRules<LoadableConfig>, 'kindOf' | 'registerLabels'>, yaml: YamlFile, baseDir: string): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const [i, source] of (config.sources as LabelledSource[]).entries()) {
    if (source.register_labels_file === undefined) continue;
    const file = resolve(baseDir, source.register_labels_file);
    let text: string;
    try {
      text = await readTextFile(file, CONFIG_LIMIT);
    } catch (err) {
      problems.push(unreadableFileProblem(yaml, ['sources', i, 'register_labels_file'], 'register_labels_file', file, err));
      continue;
    }
    const kind = rules.kindOf(source.type);
    const read = registerLabelsOf(file, text, kind.identityColumns, `source "${source.name}"`, rules.registerLabels);
    if (!read.ok) {
      problems.push(...read.problems);
      continue;
    }
    const labels = new RegisterLabels(read.data);
    if (kind.registersFile) for (const r of source.registers ?? []) r.labels = { ...labels.of(r.name), ...r.labels };
    else source.register_labels = labels;
  }
  return problems;
}

/** A `register_labels_file`'s data: a CSV by its name's `.csv`, else a YAML mapping. */
function registerLabelsOf(file: string, text: string, identityColumns: readonly string[], what: string, schema: RegisterLabelsSchema): ReturnType<typeof csvRegisterLabels> {
  if (/\.csv$/i.test(file)) return csvRegisterLabels(file, text, identityColumns, what, schema);
  const yaml = new YamlFile(file, text, true);
  const syntax = yaml.syntaxProblems();
  if (syntax.length > 0) return { ok: false, problems: syntax };
  const parsed = schema.safeParse(yaml.toJS() ?? {});
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, problems: yaml.zodProblems(parsed.error) };
}

const CONFIG_MISSING = 'config file not found (ENOENT): name it with --config.file=PATH, or try the exporter on a simulated fleet with --demo';

/**
 * Reads, expands, validates and resolves a config file. Throws ConfigError listing every problem
 * found, each with the file, line and column it comes from.
 */
export async function loadConfig<C extends LoadableConfig>(file: string, rules: ConfigRules<C>, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig<C>> {
  const read = await readYaml(file, { env, whenMissing: CONFIG_MISSING });
  const { yaml } = read;
  const value = read.value ?? {};
  const baseDir = dirname(resolve(file));
  const problems: ConfigProblem[] = [];
  await resolveSecretFiles(value, [], yaml, baseDir, problems);
  const parsed = rules.schema.safeParse(value);
  if (!parsed.success) problems.push(...yaml.zodProblems(parsed.error));
  const sources = parsed.success ? parsed.data.sources : sourcesAsWritten(value, rules.kindOf);
  problems.push(...(await mergeRegistersFiles(sources, rules.kindOf, yaml, baseDir, env)));
  if (parsed.success) problems.push(...(await readRegisterLabelsFiles(parsed.data, rules, yaml, baseDir)));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return { file, config: parsed.data };
}
