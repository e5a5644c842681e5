import { describe, expect, it } from 'vitest';

import { createProgram } from './program.js';

describe('vid', () => {
  it('prints the doctor report', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (text: string) => lines.push(text);
    try {
      await createProgram().parseAsync(['node', 'vid', 'doctor', '--backend', 'wasm']);
    } finally {
      console.log = log;
    }
    const text = lines.join('\n');
    expect(text).toMatch(/backend: +wasm/);
    expect(text).toContain('@tensorflow/tfjs-node-gpu');
  });
});
