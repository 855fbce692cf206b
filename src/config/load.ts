import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, SECRET_KEYS, ukmRegistersFile, type Config, type SourceConfig, type UkmRegisterConfig } from './schema.js';

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
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export interface LoadedConfig {
  file: string;
  config: Config;
}

type Path = ReadonlyArray<string | number>;

/** A parsed YAML file that can tell where any path in it starts. */
class YamlFile {
  readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(readonly file: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
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

async function readYaml(file: string, env: NodeJS.ProcessEnv): Promise<{ yaml: YamlFile; value: unknown }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? err}` }]);
  }
  const yaml = new YamlFile(file, text);
  const syntax = yaml.syntaxProblems();
  if (syntax.length > 0) throw new ConfigError(syntax);
  const envProblems = yaml.expandEnv(env);
  if (envProblems.length > 0) throw new ConfigError(envProblems);
  return { yaml, value: yaml.doc.toJS() ?? {} };
}

async function readSecretFile(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
}

/** Replaces every `<secret>_file` with the file's content under `<secret>`, in place. */
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
      try {
        obj[secret] = await readSecretFile(resolve(baseDir, value));
      } catch (err) {
        problems.push(yaml.problemAt([...path, key], `cannot read ${key}: ${(err as NodeJS.ErrnoException).code ?? err}`));
        obj[secret] = '<unreadable>'; // reported above; keeps validation from also calling it missing
      }
      delete obj[key];
    } else {
      await resolveSecretFiles(value, [...path, key], yaml, baseDir, problems);
    }
  }
}

async function loadRegistersFile(file: string, env: NodeJS.ProcessEnv): Promise<UkmRegisterConfig[]> {
  const { yaml, value } = await readYaml(file, env);
  const parsed = ukmRegistersFile.safeParse(value);
  if (!parsed.success) throw new ConfigError(yaml.zodProblems(parsed.error));
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.registers;
}

async function mergeRegistersFiles(config: Config, yaml: YamlFile, baseDir: string, env: NodeJS.ProcessEnv): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const [i, source] of config.sources.entries()) {
    if (source.type !== 'ukm') continue;
    if (source.registers_file) {
      try {
        source.registers = [...source.registers, ...(await loadRegistersFile(resolve(baseDir, source.registers_file), env))];
      } catch (err) {
        if (err instanceof ConfigError) problems.push(...err.problems);
        else throw err;
      }
    }
    const names = new Set<string>();
    for (const r of source.registers) {
      if (names.has(r.name)) problems.push(yaml.problemAt(['sources', i, 'registers'], `duplicate register name "${r.name}" in source "${source.name}"`));
      names.add(r.name);
    }
  }
  return problems;
}

/**
 * Reads, expands, validates and resolves a config file. Throws ConfigError listing every problem
 * found, each with the file, line and column it comes from.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const { yaml, value } = await readYaml(file, env);
  const baseDir = dirname(resolve(file));
  const problems: ConfigProblem[] = [];
  await resolveSecretFiles(value, [], yaml, baseDir, problems);
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) problems.push(...yaml.zodProblems(parsed.error));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const fileProblems = await mergeRegistersFiles(parsed.data, yaml, baseDir, env);
  if (fileProblems.length > 0) throw new ConfigError(fileProblems);
  return { file, config: parsed.data };
}

export type { Config, SourceConfig };
