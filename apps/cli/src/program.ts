import { Command } from 'commander';

import { registerDoctor } from './doctor.js';

/** The `vid` program with every subcommand registered. */
export function createProgram(): Command {
  const program = new Command('vid')
    .description('vid: recurrent video models on TensorFlow.js')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerDoctor(program);
  return program;
}
