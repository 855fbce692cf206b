import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * The exporter's layers, lowest first: a file may import from its own layer and the ones below,
 * never from one above. An entry is a file or, ending in `/`, a folder under src/.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['log.ts', 'version.ts', 'readings/'],
  ['config/'],
  ['deadline/', 'http/', 'shard.ts'],
  ['sources/'],
  ['metrics/', 'status/'],
  ['exporter/', 'idle-gc.ts'],
  ['server/'],
  ['main.ts', 'cli.ts', 'healthcheck.ts', 'demo.ts', 'rules.ts'],
];

/**
 * The simulated vendors are a program of their own (simulator/cli.ts): they may use the layers up
 * to sources/ (the vendors' constants), and only these entry points may use them.
 */
const SIMULATOR = 'simulator/';
const SIMULATOR_MAY_IMPORT_UP_TO = 'sources/';
const SIMULATOR_USERS = ['demo.ts', 'cli.ts'];

/** Where no vendor is named: the parts that must stay the same when a vendor is added. */
const VENDOR_NEUTRAL = ['config/', 'http/', 'server/', 'deadline/', 'exporter/', 'idle-gc.ts', 'main.ts'];
const VENDOR_NAME = /ukm|atol|businesskassa|kassa24/i;

/** A non-test source file: its path under src/ (posix) and its text. */
interface SourceFile {
  path: string;
  text: string;
}

function sourceFiles(dir = SRC): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) return [];
    return [{ path: relative(SRC, full).split('\\').join('/'), text: readFileSync(full, 'utf8') }];
  });
}

const within = (path: string, entry: string): boolean => (entry.endsWith('/') ? path.startsWith(entry) : path === entry);

/** The entry of LAYERS (or SIMULATOR) a path falls under. */
function entryOf(path: string): string | undefined {
  return [...LAYERS.flat(), SIMULATOR].find((entry) => within(path, entry));
}

function layerOf(entry: string): number {
  return LAYERS.findIndex((layer) => layer.includes(entry));
}

/** The src/ files `file` imports (import, export ... from, import(), import type), as paths under src/. */
function importsOf(file: SourceFile): string[] {
  return ts
    .preProcessFile(file.text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.normalize(posix.join(posix.dirname(file.path), spec)).replace(/\.js$/, '.ts'));
}

/** Every import that runs from a lower layer to a higher one, or into or out of the simulator where it may not. */
function layeringProblems(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  const simulatorCeiling = layerOf(SIMULATOR_MAY_IMPORT_UP_TO);
  for (const file of files) {
    const from = entryOf(file.path);
    if (from === undefined) {
      problems.push(`${file.path} is in no layer: add it to LAYERS in test/structure.test.ts`);
      continue;
    }
    for (const target of importsOf(file)) {
      const to = entryOf(target);
      if (to === undefined) problems.push(`${file.path} imports ${target}, which is in no layer`);
      else if (to === SIMULATOR && from !== SIMULATOR && !SIMULATOR_USERS.includes(from)) problems.push(`${file.path} imports ${target}: only entry points may use the simulator`);
      else if (from === SIMULATOR && to !== SIMULATOR && layerOf(to) > simulatorCeiling) problems.push(`${file.path} imports ${target}: the simulator may use the layers up to ${SIMULATOR_MAY_IMPORT_UP_TO} only`);
      else if (from !== SIMULATOR && to !== SIMULATOR && layerOf(to) > layerOf(from)) problems.push(`${file.path} (${from}) imports ${target} (${to}), a higher layer`);
    }
  }
  return problems;
}

/** Every line that names a vendor in a file that must not. */
function vendorNameProblems(files: readonly SourceFile[]): string[] {
  return files
    .filter((file) => VENDOR_NEUTRAL.some((entry) => within(file.path, entry)))
    .flatMap((file) =>
      file.text
        .split('\n')
        .flatMap((line, i) => (VENDOR_NAME.test(line) ? [`${file.path}:${i + 1}: names a vendor: ${line.trim()}`] : [])),
    );
}

describe('the structure of src/', () => {
  const files = sourceFiles();

  it('finds the files and their imports', () => {
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['main.ts', 'config/load.ts', 'exporter/exporter.ts', 'simulator/cli.ts']));
    expect(importsOf(files.find((f) => f.path === 'exporter/exporter.ts') as SourceFile)).toContain('exporter/generations.ts');
  });

  it('has no import from a lower layer to a higher one', () => {
    expect(layeringProblems(files)).toEqual([]);
  });

  it('names no vendor in config, http, server, deadline, the exporter or main', () => {
    expect(vendorNameProblems(files)).toEqual([]);
  });

  it('would report a planted import that runs up, into the simulator, or out of it too far', () => {
    const planted: SourceFile[] = [
      { path: 'config/planted.ts', text: "import { VENDORS } from '../sources/vendors.js';\nexport type { Foo } from '../server/app.js';\n" },
      { path: 'metrics/planted.ts', text: "const fleet = await import('../simulator/fleet.js');\n" },
      { path: 'simulator/planted.ts', text: "import type { Exporter } from '../exporter/exporter.js';\n" },
      { path: 'elsewhere.ts', text: '' },
    ];
    expect(layeringProblems(planted)).toEqual([
      'config/planted.ts (config/) imports sources/vendors.ts (sources/), a higher layer',
      'config/planted.ts (config/) imports server/app.ts (server/), a higher layer',
      'metrics/planted.ts imports simulator/fleet.ts: only entry points may use the simulator',
      'simulator/planted.ts imports exporter/exporter.ts: the simulator may use the layers up to sources/ only',
      'elsewhere.ts is in no layer: add it to LAYERS in test/structure.test.ts',
    ]);
    expect(layeringProblems([{ path: 'demo.ts', text: "import { demoFleet } from './simulator/fleet.js';\n" }])).toEqual([]);
  });

  it('would report a vendor named in a neutral part, in code or comment', () => {
    const planted: SourceFile[] = [
      { path: 'server/planted.ts', text: "// fine\nconst pool = vendorStates.of('ukm');\n/** the Kassa24 way */\n" },
      { path: 'sources/planted.ts', text: "const pool = vendorStates.of('ukm');\n" },
    ];
    expect(vendorNameProblems(planted)).toEqual([
      "server/planted.ts:2: names a vendor: const pool = vendorStates.of('ukm');",
      'server/planted.ts:3: names a vendor: /** the Kassa24 way */',
    ]);
  });
});
