import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'es2022',
  // The tsconfig is a composite project (for `tsc -b`); declaration bundling needs it off.
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
});
