/**
 * @vid/core: backend selection, modules and parameters, seeded RNG and initializers,
 * safetensors and PyTorch checkpoint I/O, typed errors.
 *
 * @module @vid/core
 */

// Backends
export {
  BACKEND_ORDER,
  BACKEND_PACKAGES,
  BROWSER_BACKEND_ORDER,
  type BackendAttempt,
  type BackendName,
  type BackendReport,
  type InitBackendOptions,
  NODE_BACKEND_ORDER,
  type WasmBinaryName,
  currentBackend,
  formatBackendReport,
  initBackend,
} from './backend/select.js';
export { ensureGradients } from './backend/gradients.js';
export { pairwiseSum, registerAccurateSum, stockSumKernel } from './backend/bias-grad.js';
export { WASM_TRAINING_KERNELS, registerWasmTrainingKernels, replacedWasmKernels } from './backend/wasm-kernels.js';
export { WASM_VIEW_KERNELS } from './backend/wasm-view-kernels.js';
export { SIMD_KERNELS_FLAG } from './backend/simd/conv2d.js';

// Errors and validation
export {
  BackendError,
  ConfigError,
  FileFormatError,
  ShapeError,
  StateDictError,
  VidError,
  formatShape,
  formatValue,
} from './errors.js';
// Tensor helpers: an accurate mean, video time-axis slices and stacks
export { accurateMean, sliceFrames, stackFrames } from './ops.js';
// Gradient checkpointing: a function recomputed in the backward pass
export { gradientCheckpoint } from './gradient-checkpoint.js';
export {
  type ExpectedDim,
  assertDtype,
  assertFinite,
  assertKnownKeys,
  assertTensor,
  assertRank,
  assertShape,
  bool,
  debugChecksEnabled,
  finiteNumber,
  nonNegativeInteger,
  oneOf,
  pairOf,
  positiveInteger,
  resolveRng,
  setDebugChecks,
} from './validate.js';

// Randomness and initialisation
export { Rng, type RngState } from './rng.js';
export {
  type Initializer,
  type KaimingOptions,
  biasUniform,
  calculateGain,
  computeFans,
  constant,
  initialize,
  kaimingNormal,
  kaimingUniform,
  normal,
  ones,
  orthogonal,
  uniform,
  xavierNormal,
  xavierUniform,
  zeros,
} from './init.js';

// Modules and layers
export {
  Layouts,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  ModuleDict,
  ModuleList,
  type ParameterLayout,
  type ParameterOptions,
  type StateDictInput,
  type StateDictLayout,
} from './module.js';
export {
  type ConfigValue,
  type ModuleClass,
  type ModuleConfig,
  type SerializedModule,
  classNameOf,
  configOf,
  deserializeModule,
  getRegisteredClass,
  isSerializedModule,
  registerClass,
  registeredClassNames,
  resolveModule,
  seedConfig,
  serializeModule,
} from './registry.js';
export { sigmoidCrossEntropy, softmaxCrossEntropy } from './losses.js';
export {
  Conv2d,
  type Conv2dOptions,
  type ConvBlock,
  type Conv2dPadding,
  Linear,
  type LinearOptions,
  convSame,
  samePadding,
} from './layers.js';

// Tensors on the host and checkpoint I/O
export {
  type DType,
  DTYPE_SIZE,
  type HostArray,
  type HostTensor,
  bfloat16ToNumber,
  castHost,
  float16ToNumber,
  hostBytes,
  hostTensor,
  hostToTensor,
  numElements,
  numberToBfloat16,
  numberToFloat16,
  tensorToHost,
  toFloat32Array,
  toInt32Array,
  viewAs,
} from './io/host-tensor.js';
export {
  type SafetensorsContents,
  type SafetensorsEntry,
  SafetensorsFile,
  type SafetensorsHeader,
  type TensorDict,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
} from './io/safetensors.js';
export { type CheckpointValue, extractStateDict, readTorchCheckpoint } from './io/torch.js';
export {
  type GlobalHandler,
  type PyObject,
  type PyValue,
  PyGlobal,
  type UnpickleOptions,
  unpickle,
} from './io/pickle.js';
export {
  type ByteSource,
  type InflateOptions,
  ZipArchive,
  type ZipEntry,
  type ZipInput,
  type ZipOpenOptions,
  bytesSource,
  crc32,
  fileSource,
  inflateBounded,
  writeZip,
} from './io/zip.js';
export { DEFAULT_READ_LIMITS, type ReadLimits, getReadLimits, resolveReadLimits, setReadLimits } from './io/limits.js';
export {
  DOWNLOADS_SCHEME,
  type HttpHandlerOptions,
  INDEXEDDB_SCHEME,
  MODEL_DATABASE,
  MODEL_STORE,
  type ModelArtifacts,
  type ModelDestination,
  type ModelIOHandler,
  type ModelSource,
  type SaveResult,
  bytesHandler,
  downloadHandler,
  fileHandler,
  httpHandler,
  indexedDBHandler,
  listStoredModels,
  removeStoredModel,
  resolveHandler,
} from './io/handlers.js';
export {
  type LoadModelOptions,
  type LoadedModel,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelMetadata,
  type SaveModelOptions,
  type SavedModel,
  inspectModel,
  loadModel,
  parseModelMetadata,
  readModel,
  saveModel,
  serializeModel,
} from './io/model-io.js';
export { type FileHandleLike, fileError, readExactly, readFileBytes, writeAll, writeFileAtomic } from './io/node-fs.js';

// Optimisation
export { Adam, type AdamOptions, type AdamState, clipGradNorm } from './optim.js';
