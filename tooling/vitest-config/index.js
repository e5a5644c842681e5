// The shared Vitest preset of the vid workspace.
//
// - Workspace packages resolve to their TypeScript sources through the `@vid/source` export
//   condition, so tests never need a build first.
// - tfjs-core's Node bundle registers no gradients; `@vid/core` imports tfjs-core's own
//   `register_all_gradients` module, which is ESM with extensionless imports. Vitest must inline
//   (transform) those files instead of handing them to Node. tsup bundles the same files into
//   `@vid/core`'s dist, so tests and the published package run the same code.
// - Tests run in forked processes, few at a time: the machines this runs on have two cores, and
//   each test file loads a WebAssembly backend.
import { defineConfig, mergeConfig } from 'vitest/config';

const conditions = ['@vid/source', 'module', 'node', 'development|production'];

/**
 * @param {import('vitest/config').UserConfig} [overrides]
 * @returns {import('vitest/config').UserConfig}
 */
export function vidVitestConfig(overrides = {}) {
  const base = defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['node'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      pool: 'forks',
      maxWorkers: process.env.CI ? 2 : 2,
      testTimeout: 180_000,
      hookTimeout: 180_000,
      reporters: process.env.CI ? ['default'] : ['default'],
      server: {
        deps: {
          inline: [/@tensorflow[\\/]tfjs-core[\\/]dist[\\/](?!tf-core\.)/],
        },
      },
    },
  });
  return mergeConfig(base, overrides);
}
