import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm'],
  target: 'es2022',
  // The package's tsconfig is a composite project (for `tsc -b`); tsup's declaration build is not.
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  // Peer and workspace dependencies stay external.
  external: [/^@tensorflow\//, /^@vid\//, /^node:/],
});
