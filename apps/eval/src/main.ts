#!/usr/bin/env node
/** Standalone entry of `turbo eval`: `vid eval` (default: the latest run in runs/ under its own protocol). */
import { Command } from 'commander';

import { configureEvalCommand } from './cli.js';
import { runCli } from './errors.js';

const program = configureEvalCommand(new Command('vid-eval')).showHelpAfterError();
await runCli(() => program.parseAsync(process.argv), 'vid eval');
