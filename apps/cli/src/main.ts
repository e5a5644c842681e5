import { runCli } from '@vid/eval';

import { createProgram } from './program.js';

// vid's own errors (and file-system errors) say what was expected and received: one line, exit 1.
await runCli(() => createProgram().parseAsync(process.argv), 'vid');
