#!/usr/bin/env node
/** Standalone entry of `turbo demo`. */
import { VidError } from '@vid/core';
import { Command } from 'commander';

import { configureDemoCommand } from './cli.js';

try {
  await configureDemoCommand(new Command('vid-demo')).parseAsync(process.argv);
} catch (error) {
  if (error instanceof VidError) {
    console.error(`vid demo: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
