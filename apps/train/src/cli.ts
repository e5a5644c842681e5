/**
 * `vid train`: flags, config files and presets, SIGINT handling. Also the standalone entry of
 * `turbo train` (`apps/train/dist/main.js`).
 */
import { type Command, Option } from 'commander';

import { ConfigError } from '@vid/core';
import { DEFAULT_PRETRAINED, PRETRAINED_NAMES, type PretrainedName, loadPretrained, pretrained } from '@vid/pretrained';
import {
  type TrainConfig,
  configDocumentation,
  deepMerge,
  describePresets,
  setPath,
  trainConfigJsonSchema,
} from '@vid/training';
import {
  ProgressReporter,
  type ProgressMode,
  progressCallback,
  readConfigFile,
  resolveConfig,
  train,
} from '@vid/training/node';

/** Options parsed from the command line. */
interface TrainFlags {
  preset?: string;
  config?: string;
  set?: string[];
  resume?: string;
  runDir?: string;
  name?: string;
  runsDir?: string;
  steps?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  seed?: string;
  backend?: string;
  data?: string;
  init?: string;
  replay?: string;
  progress?: string;
  reference?: string;
  listPresets?: boolean;
  printConfig?: boolean;
  configDoc?: boolean;
  jsonSchema?: boolean;
}

/** Parses a `--set key=value` value: JSON when it parses, else the string. */
export function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Builds the override object from flags. */
export function flagsToOverrides(flags: TrainFlags): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  const number = (value: string | undefined, path: string): void => {
    if (value !== undefined) setPath(overrides, path, parseSetValue(value));
  };
  if (flags.name !== undefined) setPath(overrides, 'name', flags.name);
  if (flags.runsDir !== undefined) setPath(overrides, 'output.runsDir', flags.runsDir);
  number(flags.steps, 'train.maxSteps');
  number(flags.epochs, 'train.epochs');
  number(flags.batchSize, 'train.batchSize');
  number(flags.lr, 'train.learningRate');
  number(flags.seed, 'seed');
  if (flags.backend !== undefined) setPath(overrides, 'backend', flags.backend);
  if (flags.data !== undefined) setPath(overrides, 'data.path', flags.data);
  if (flags.init !== undefined) setPath(overrides, 'model.init', flags.init);
  if (flags.replay !== undefined) setPath(overrides, 'train.replay', flags.replay);
  if (flags.progress !== undefined) setPath(overrides, 'output.progress', flags.progress);
  for (const assignment of flags.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new Error(`--set ${assignment}: expected key=value, e.g. --set train.batchSize=8`);
    setPath(overrides, assignment.slice(0, eq), parseSetValue(assignment.slice(eq + 1)));
  }
  return overrides;
}

/** The configuration a set of flags describes (validated; throws before any work). */
export function configFromFlags(flags: TrainFlags): TrainConfig {
  return resolveConfig({
    ...(flags.preset ? { preset: flags.preset } : {}),
    ...(flags.config ? { file: flags.config } : {}),
    overrides: flagsToOverrides(flags),
  });
}

/**
 * The shipped model shown beside a run (`--reference`): the named one, none for `none`, and by
 * default the default shipped model when the run evaluates what it was trained on (generated or
 * file Moving MNIST, 64×64 grayscale, 10 context frames), so that a newcomer's first run shows
 * what a longer training gives on the same sequences.
 */
export function referenceFor(config: TrainConfig, flag?: string): PretrainedName | null {
  if (flag === 'none') return null;
  if (flag !== undefined) return pretrained(flag, '--reference').name as PretrainedName;
  const { data } = config;
  const suits =
    data.dataset !== 'kth' &&
    data.frameSize[0] === 64 &&
    data.frameSize[1] === 64 &&
    data.channels === 1 &&
    data.inputFrames === 10;
  return suits ? DEFAULT_PRETRAINED : null;
}

/** Adds the train options and action to a command. */
export function configureTrainCommand(command: Command): Command {
  return command
    .description('train a video-prediction model (default preset: quick, a few minutes on 2 CPU cores)')
    .option('-p, --preset <name>', 'preset to start from (see --list-presets); default quick')
    .option('-c, --config <file>', 'configuration file (JSON or YAML; see --config-doc); flags override it')
    .option('--set <key=value...>', 'override any field, e.g. --set train.batchSize=8 --set model.hiddenChannels=[64]')
    .option('--resume <dir>', 'continue a run from its last checkpoint (a run folder or a checkpoint folder)')
    .option('--run-dir <dir>', 'run directory (default <runsDir>/<name>)')
    .option('--name <name>', 'run name (default <preset>-<date>-<time>)')
    .option('--runs-dir <dir>', 'folder of run directories (default runs/ at the repository root)')
    .option('--steps <n>', 'stop after n steps in all (train.maxSteps)')
    .option('--epochs <n>', 'epochs (train.epochs)')
    .option('--batch-size <n>', 'batch size (train.batchSize)')
    .option('--lr <x>', 'initial learning rate (train.learningRate)')
    .option('--seed <n>', 'seed')
    .option('--data <path>', 'dataset file or folder (data.path)')
    .option('--init <file>', 'initial weights: an official PyTorch .pt or a vid .safetensors (model.init)')
    .option('--replay <file>', 'replay a recorded batch order and teacher-forcing masks, JSON (train.replay)')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'gpu', 'node', 'wasm', 'cpu']))
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'lines', 'none']))
    .option(
      '--reference <name>',
      `a shipped model (${PRETRAINED_NAMES.join(', ')}) evaluated on the same sequences at the end, beside the run, or none; default ${DEFAULT_PRETRAINED} when the run's data is what it was trained on (Moving MNIST 64×64, 10 context frames)`,
    )
    .option('--list-presets', 'list the presets and exit')
    .option('--print-config', 'print the resolved configuration as JSON and exit')
    .option('--config-doc', 'print the documentation of every configuration field and exit')
    .option('--json-schema', 'print the JSON Schema of configuration files (for editors) and exit')
    .action(async (flags: TrainFlags) => {
      if (flags.listPresets) {
        console.log(describePresets());
        return;
      }
      if (flags.configDoc) {
        console.log(configDocumentation());
        return;
      }
      if (flags.jsonSchema) {
        console.log(JSON.stringify(trainConfigJsonSchema(), null, 2));
        return;
      }
      if (flags.resume) {
        // A resumed run continues its own configuration: flags and --config may only change the
        // keys that are safe to change (train() refuses the rest, naming them).
        if (flags.preset)
          throw new ConfigError(
            '--preset',
            'no preset with --resume (the run continues its own configuration)',
            flags.preset,
            'vid train',
          );
        const resumeOverrides = deepMerge(
          flags.config ? readConfigFile(flags.config) : {},
          flagsToOverrides(flags),
        ) as Record<string, unknown>;
        await runWithSigint(async (signal) => {
          const reporter = new ProgressReporter({
            ...(flags.progress ? { mode: flags.progress as ProgressMode } : {}),
          });
          const result = await train({
            resume: flags.resume as string,
            resumeOverrides,
            ...(flags.runDir ? { runDir: flags.runDir } : {}),
            signal,
            log: (line) => (reporter.mode === 'none' ? process.stderr.write(`${line}\n`) : reporter.log(line)),
            callbacks: [progressCallback(reporter)],
            command: `vid train ${process.argv.slice(2).join(' ')}`,
          });
          if (result.interrupted) process.exitCode = 130;
        });
        return;
      }
      const config = configFromFlags(flags);
      if (flags.printConfig) {
        console.log(JSON.stringify(config, null, 2));
        return;
      }
      await runWithSigint(async (signal) => {
        // The progress bar is a callback of the loop; messages print above it.
        const reporter = new ProgressReporter({ mode: config.output.progress, logEvery: config.output.logEverySteps });
        const reference = referenceFor(config, flags.reference);
        const result = await train({
          config,
          ...(reference ? { reference: { label: `shipped ${reference}`, load: () => loadPretrained(reference) } } : {}),
          ...(flags.runDir ? { runDir: flags.runDir } : {}),
          signal,
          log: (line) => (reporter.mode === 'none' ? process.stderr.write(`${line}\n`) : reporter.log(line)),
          callbacks: [progressCallback(reporter)],
          command: `vid train ${process.argv.slice(2).join(' ')}`,
        });
        // The summary was printed by train() already.
        if (result.interrupted) process.exitCode = 130;
      });
    });
}

/**
 * Runs `task` with an AbortSignal that SIGINT (Ctrl-C) and SIGTERM abort: the training loop then
 * saves a checkpoint and returns. A second SIGINT exits at once.
 */
export async function runWithSigint(task: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count > 1) {
      process.stderr.write(`\nvid: second ${signal}, exiting without a checkpoint\n`);
      process.exit(130);
    }
    process.stderr.write(
      `\nvid: ${signal} received: saving a checkpoint after the current step (press Ctrl-C again to quit now)\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    await task(controller.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}

/** Registers `train` on a commander program (used by the `vid` CLI). */
export function registerTrainCommand(program: Command): Command {
  return configureTrainCommand(program.command('train'));
}
