import { describe, expect, it } from 'vitest';

import { createProgram } from './program.js';

async function run(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (text: string) => lines.push(text);
  try {
    await createProgram()
      .exitOverride()
      .parseAsync(['node', 'vid', ...args]);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

describe('vid', () => {
  it('prints the doctor report', async () => {
    const text = await run(['doctor', '--backend', 'wasm']);
    expect(text).toMatch(/backend: +wasm/);
    expect(text).toContain('@tensorflow/tfjs-node-gpu');
  });
});

describe('vid subcommands', () => {
  it('registers train, eval, predict, score, demo and doctor', () => {
    const names = createProgram().commands.map((c) => c.name());
    expect(names).toEqual(['train', 'eval', 'predict', 'score', 'demo', 'doctor']);
  });

  it('prints the resolved training configuration and the presets', async () => {
    const config = JSON.parse(
      await run(['train', '--print-config', '--preset', 'mmnist-convlstm', '--batch-size', '4']),
    );
    expect(config.model.cell).toBe('convlstm');
    expect(config.train.batchSize).toBe(4);
    expect(await run(['train', '--list-presets'])).toContain('mmnist-convttlstm');
    expect(await run(['eval', '--list-presets'])).toContain('mmnist-10-30');
  });

  it('rejects a bad flag value with a clear error before any work', async () => {
    await expect(run(['train', '--print-config', '--set', 'train.batchSize=-1'])).rejects.toThrow(
      /train\.batchSize: expected an integer ≥ 1, received -1/,
    );
    await expect(run(['train', '--print-config', '--set', 'train.epoch=3'])).rejects.toThrow(/did you mean "epochs"/);
  });
});
