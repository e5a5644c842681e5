#!/usr/bin/env node
/** Standalone entry of `turbo train` / `pnpm --filter @vid/train train [flags]`: `vid train` by another name. */
import { VidError } from '@vid/core';
import { Command } from 'commander';

import { configureTrainCommand } from './cli.js';

const program = configureTrainCommand(new Command('vid-train')).showHelpAfterError();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof VidError) {
    console.error(`vid train: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
