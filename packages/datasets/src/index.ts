/**
 * @vid/datasets: Moving MNIST, KTH Action and Something-Something V2 loaders, npy/npz and IDX
 * files, video decoding with ffmpeg, and one streaming dataset pipeline. Everything works on host
 * arrays; tensors are made at the batch level (`batchToTensor`).
 *
 * @module @vid/datasets
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

// Images and video decoding
export { type ResizeFilter, type ResizeOptions, resizeFrames, resizeImage } from './image/resize.js';
export { type DecodedImage, decodePng, encodePng, readPng, writePng } from './image/png.js';
export {
  type DecodeVideoOptions,
  type DecodedFrame,
  type DecodedVideo,
  FfmpegNotFoundError,
  countVideoFrames,
  decodeVideo,
  findFfmpeg,
  hasFfmpeg,
  readVideo,
} from './video/ffmpeg.js';

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
export {
  MOVING_MNIST_FORMATS,
  MOVING_MNIST_LAYOUTS,
  MovingMnistFile,
  type MovingMnistFormat,
  type MovingMnistLayout,
  type WriteMovingMnistOptions,
  writeMovingMnistFile,
} from './mnist/files.js';

// KTH Action
export {
  KTH_ACTIONS,
  KTH_FAST_ACTIONS,
  KTH_PROTOCOLS,
  type KthAction,
  type KthClipRef,
  KthDataset,
  type KthOptions,
  type KthProtocol,
  type KthProtocolName,
  type KthSplit,
  type KthVideo,
  nonOverlappingClipStarts,
  parseKthName,
  parseKthSequences,
  predrnnClipStarts,
  readKthSequences,
  scanKth,
} from './kth/kth.js';

// Something-Something V2
export {
  type FrameSampling,
  SomethingSomethingV2,
  type Ssv2Entry,
  type Ssv2Options,
  type Ssv2Split,
  observedFrameCount,
  readSsv2Annotations,
  readSsv2Labels,
  sampleFrameIndices,
  templateToClassName,
} from './ssv2/ssv2.js';
