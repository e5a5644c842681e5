/**
 * How the command lines report a failure: one line, no stack trace, exit status 1, for every
 * error a user can cause (vid's typed errors, and file-system errors such as ENOTDIR or EACCES).
 * Anything else is a bug in vid and keeps its stack trace.
 */
import { VidError, fileError } from '@vid/core';

/** The one-line message for an error a user caused, prefixed once with `prefix`; undefined for a bug. */
export function cliErrorMessage(error: unknown, prefix: string): string | undefined {
  let message: string | undefined;
  if (error instanceof VidError) message = error.message;
  else {
    const system = error as NodeJS.ErrnoException | undefined;
    if (error instanceof Error && typeof system?.code === 'string' && /^E[A-Z]+$/.test(system.code)) {
      message = (system.path ? fileError(system.path, error) : error).message;
    }
  }
  if (message === undefined) return undefined;
  // A context such as "vid predict: …" already names the command: never "vid: vid predict: …".
  return /^vid\b/.test(message) ? message : `${prefix}: ${message}`;
}

/** Runs a command line's main, printing user errors as one line with exit status 1. */
export async function runCli(main: () => Promise<unknown>, prefix: string): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message = cliErrorMessage(error, prefix);
    if (message === undefined) throw error;
    console.error(message);
    process.exitCode = 1;
  }
}
