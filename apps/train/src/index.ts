/**
 * @vid/train (private app): `vid train` and `turbo train`, flags in, `@vid/training` calls out.
 */
export {
  configFromFlags,
  configureTrainCommand,
  flagsToOverrides,
  parseSetValue,
  registerTrainCommand,
  runWithSigint,
} from './cli.js';
