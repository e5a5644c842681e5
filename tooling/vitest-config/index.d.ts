import type { UserConfig } from 'vitest/config';

/** The shared Vitest preset, merged with `overrides`. */
export declare function vidVitestConfig(overrides?: UserConfig): UserConfig;
