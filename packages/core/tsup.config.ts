import { library, tfjsCoreEntryOnly } from '@vid/tsup-config';

export default library({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  platform: 'neutral',
  splitting: true,
  // `@tensorflow/tfjs-core` is a peer dependency and stays external; its
  // `dist/register_all_gradients` module is bundled, because tfjs-core's Node entry registers no
  // gradients and that file cannot be loaded by Node on its own (see src/backend/gradients.ts).
  external: [/^@tensorflow\/tfjs-(backend-cpu|backend-wasm|node|node-gpu)$/, /^node:/],
  esbuildPlugins: [tfjsCoreEntryOnly],
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
