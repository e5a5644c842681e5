#!/usr/bin/env node
/** Standalone entry of `turbo eval`: `vid eval` (default: the latest run in runs/ under its own protocol). */
import { VidError } from '@vid/core';
import { Command } from 'commander';

import { configureEvalCommand } from './cli.js';

const program = configureEvalCommand(new Command('vid-eval')).showHelpAfterError();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof VidError) {
    console.error(`vid eval: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
