import type { Options } from 'tsup';

/** An esbuild plugin that keeps `@tensorflow/tfjs-core`'s entry external (its `dist/` modules may be bundled). */
export declare const tfjsCoreEntryOnly: NonNullable<Options['esbuildPlugins']>[number];
/** The preset of a published library, merged (shallowly) with `overrides` (one object per build, for several builds). */
export declare function library(overrides?: Options | Options[]): Options | Options[];
/** The preset of a private app, merged (shallowly) with `overrides`. */
export declare function app(overrides?: Options): Options;
