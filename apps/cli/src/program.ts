import { registerDemoCommand } from '@vid/demo';
import { registerEvalCommand, registerPredictCommand, registerScoreCommand } from '@vid/eval';
import { registerTrainCommand } from '@vid/train';
import { Command } from 'commander';

import { registerDoctor } from './doctor.js';

/** The `vid` program with every subcommand registered: train, eval, predict, score, demo, doctor. */
export function createProgram(): Command {
  const program = new Command('vid')
    .description('vid: recurrent video models on TensorFlow.js')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerTrainCommand(program);
  registerEvalCommand(program);
  registerPredictCommand(program);
  registerScoreCommand(program);
  registerDemoCommand(program);
  registerDoctor(program);
  return program;
}
