import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { CONFIG_RULES, type Config } from '../../src/sources/vendors.js';

/** Loads `yaml` as the config file `kkt-exporter.yml` of a fresh directory, with no environment. */
export async function loadYaml(yaml: string): Promise<LoadedConfig<Config>> {
  const file = join(await mkdtemp(join(tmpdir(), 'kkt-config-test-')), 'kkt-exporter.yml');
  await writeFile(file, yaml);
  return loadConfig(file, CONFIG_RULES, {});
}

/** The `line:col: message` problems loading `yaml` reports (none when it loads). */
export async function configProblems(yaml: string): Promise<string[]> {
  try {
    await loadYaml(yaml);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  }
  return [];
}
