/**
 * @vid/datasets (browser entry, the `browser` export condition): the Moving MNIST generator, the
 * streaming pipeline and batches, resizing, and the byte readers of .npy/.npz/IDX. The Node
 * entry adds PNG (pngjs), video decoding (ffmpeg), KTH, Something-Something V2 and the Moving
 * MNIST files; functions that take a path throw a clear error in a page.
 */

// Pipeline and batches
export {
  type BatchOptions,
  Dataset,
  type EpochProgress,
  type EpochTagged,
  type FromIndexedOptions,
  type IndexedSource,
  type ShuffleOptions,
} from './data/dataset.js';
export {
  BYTE_TO_UNIT,
  type CollateOptions,
  type PixelDtype,
  type VideoBatch,
  type VideoClip,
  collateVideos,
  stackClips,
  writePixels,
} from './data/video.js';
export { batchToTensor, labelsToTensor } from './data/tensor.js';

// Array files: NumPy .npy/.npz and IDX
export {
  NpyArray,
  type NpyHeader,
  type RangeReader,
  type SlabIndex,
  npyHeaderBytes,
  parseDescr,
  parseNpy,
  parseNpyHeader,
  readNpy,
  serializeNpy,
  writeNpy,
} from './io/npy.js';
export { NpzFile, readNpz, writeNpz } from './io/npz.js';
export { type IdxHeader, parseIdx, parseIdxHeader, readIdx, serializeIdx } from './io/idx.js';

// Images
export { type ResizeFilter, type ResizeOptions, resizeFrames, resizeImage } from './image/resize.js';

// Moving MNIST
export {
  DEBIAN_FASHION_MNIST_DIR,
  type DigitSet,
  type DigitSplit,
  type LoadDigitsOptions,
  digitImage,
  digitSetFromArray,
  idxFileNames,
  loadDigits,
  mnistDataDirectory,
} from './mnist/digits.js';
export {
  type DigitMotion,
  MovingMnist,
  type MovingMnistOptions,
  type MovingMnistSequence,
  type Trajectory,
  digitTrajectory,
  renderDigits,
} from './mnist/moving-mnist.js';
