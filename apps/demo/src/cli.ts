/** `vid demo`. */
import type { Command } from 'commander';
import { ConfigError } from '@vid/core';

import { startDemo } from './server.js';

/** Adds the demo options and action to a command. */
export function configureDemoCommand(command: Command): Command {
  return command
    .description(
      'serve a local page (127.0.0.1) with the runs, their curves and GIFs, and predictions of new sequences',
    )
    .option('--port <n>', 'port (default 8080; 0 picks a free one)')
    .option('--runs-dir <dir>', 'folder of run directories (default runs/ at the repository root)')
    .action(async (flags: { port?: string; runsDir?: string }) => {
      const port = flags.port === undefined ? 8080 : Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new ConfigError('--port', 'an integer port in [0, 65535]', flags.port, 'vid demo');
      await startDemo({ port, ...(flags.runsDir ? { runsDir: flags.runsDir } : {}) });
    });
}

/** Registers `demo` on a program. */
export function registerDemoCommand(program: Command): Command {
  return configureDemoCommand(program.command('demo'));
}
