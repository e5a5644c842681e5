// Makes the example files of apps/eval/examples (run from apps/eval after building @vid/datasets):
//   node scripts/make-examples.mjs
// moving-mnist-clip.npy: 10 context frames of one generated Moving MNIST sequence (MNIST test
// digits, seed "examples"), float32 [10, 64, 64, 1] in [0, 1]; moving-mnist-future.npy: its next
// 10 frames (the ground truth for `vid score`).
import { MovingMnist, loadDigits, writeNpy } from '@vid/datasets';

const generator = new MovingMnist({
  digits: await loadDigits({ split: 'test', labels: false }),
  sequenceLength: 20,
  seed: 'examples',
});
const clip = generator.sequence(0);
const frames = Float32Array.from(clip.frames, (v) => v / 255);
const size = 64 * 64;
await writeNpy('examples/moving-mnist-clip.npy', {
  dtype: 'F32',
  shape: [10, 64, 64, 1],
  data: frames.slice(0, 10 * size),
});
await writeNpy('examples/moving-mnist-future.npy', {
  dtype: 'F32',
  shape: [10, 64, 64, 1],
  data: frames.slice(10 * size),
});
console.log('wrote examples/moving-mnist-clip.npy and examples/moving-mnist-future.npy');
