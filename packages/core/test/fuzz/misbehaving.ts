/** Readers that misbehave on purpose, to prove that the fuzz watchdog catches them (harness.test.ts). */
export const readers: Record<string, (path: string) => Promise<unknown>> = {
  hang: async () => {
    for (;;);
  },
  bomb: async () => {
    const blocks: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) blocks.push(new Uint8Array(32 * 1024 * 1024).fill(1));
    return blocks.length;
  },
  untyped: async () => {
    throw new RangeError('Maximum call stack size exceeded');
  },
  fine: async (path) => {
    throw Object.assign(new Error(`${path}: truncated`), { name: 'FileFormatError' });
  },
};
