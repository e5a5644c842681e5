import * as tf from '@tensorflow/tfjs-core';
/** Experiment: a zero-copy wasm Identity (as tfjs-backend-cpu's): clones share data by refcount. */
export function shareIdentity(): void {
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    (backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  } });
}
