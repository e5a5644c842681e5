import { VidError } from '@vid/core';

import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  // vid's own errors already say what was expected and received: print them without a stack.
  if (error instanceof VidError) {
    console.error(`vid: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
