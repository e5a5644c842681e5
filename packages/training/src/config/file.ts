/**
 * Node-only configuration helpers: reading JSON or YAML files and checking that data paths
 * exist. The schema and the browser-safe `resolveConfigValues` are in `config.ts`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';

import { ConfigError, FileFormatError } from '@vid/core';
import { parse as parseYaml } from 'yaml';

import { type TrainConfig, resolveConfigValues } from './config.js';

/** Reads a JSON or YAML configuration file. */
export function readConfigFile(path: string): Record<string, unknown> {
  const file = resolve(path);
  if (!existsSync(file)) throw new FileFormatError(path, 'no such configuration file');
  if (statSync(file).isDirectory())
    throw new FileFormatError(path, 'is a directory (expected a .json, .yaml or .yml file)');
  const text = readFileSync(file, 'utf8');
  const ext = extname(file).toLowerCase();
  let value: unknown;
  try {
    value = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new FileFormatError(
      path,
      `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new FileFormatError(
      path,
      `expected a configuration object, found ${Array.isArray(value) ? 'an array' : String(value)}`,
    );
  return value as Record<string, unknown>;
}

/** Options of {@link resolveConfig}. */
export interface ResolveConfigOptions {
  /** A preset name (overridden by the file and the overrides). */
  readonly preset?: string;
  /** A configuration file (JSON or YAML). */
  readonly file?: string;
  /** Overrides, e.g. from CLI flags (applied last). */
  readonly overrides?: Record<string, unknown>;
  /** Check that data paths exist. @default true */
  readonly checkPaths?: boolean;
}

/**
 * Builds the configuration: preset (from the option, else the file's `preset`, else `quick`),
 * then the file, then the overrides; validates the result against the schema and the
 * cross-field rules. Throws a `ConfigError` naming the field before any work starts.
 */
export function resolveConfig(options: ResolveConfigOptions = {}): TrainConfig {
  const context = options.file ? `config ${options.file}` : 'config';
  const config = resolveConfigValues({
    ...(options.preset !== undefined ? { preset: options.preset } : {}),
    ...(options.file ? { values: readConfigFile(options.file) } : {}),
    ...(options.overrides ? { overrides: options.overrides } : {}),
    source: context,
  });
  if (options.checkPaths ?? true) checkDataPaths(config, context);
  return config;
}

/** Checks that the configured data paths exist. */
export function checkDataPaths(config: TrainConfig, context = 'config'): void {
  const { data } = config;
  if (data.dataset === 'moving-mnist') return;
  for (const [field, path] of [
    ['data.path', data.path],
    ['data.validPath', data.validPath],
  ] as const) {
    if (path !== null && !existsSync(path))
      throw new ConfigError(field, 'an existing path', path, `${context} (no such file or directory)`);
  }
}
