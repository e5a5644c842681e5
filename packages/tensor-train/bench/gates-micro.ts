import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vid/core';
await initBackend({ backend: 'wasm', log: false });
const [B, H, W, Cin, C] = [8, 64, 64, 56, 48];
const x = tf.randomNormal([B, H, W, Cin]) as tf.Tensor4D;
const c0 = tf.randomNormal([B, H, W, C]) as tf.Tensor4D;
const w = tf.variable(tf.mul(tf.randomNormal([5, 5, Cin, 4 * C]), 0.05));
const b = tf.variable(tf.zeros([4 * C]));
const lstm = (i: tf.Tensor, f: tf.Tensor, o: tf.Tensor, g: tf.Tensor) => {
  const c = tf.add(tf.mul(tf.sigmoid(f), c0), tf.mul(tf.sigmoid(i), tf.tanh(g)));
  return tf.sum(tf.mul(tf.sigmoid(o), tf.tanh(c)));
};
const A = () => { const z = tf.fused.conv2d({ x, filter: w as tf.Tensor4D, bias: b, pad: 'same', strides: 1 }); const [i, f, o, g] = tf.split(z, 4, 3); return lstm(i!, f!, o!, g!) as tf.Scalar; };
const Bf = () => { const ws = tf.split(w, 4, 3); const bs = tf.split(b, 4, 0); const [i, f, o, g] = ws.map((wk, k) => tf.fused.conv2d({ x, filter: wk as tf.Tensor4D, bias: bs[k], pad: 'same', strides: 1 })); return lstm(i!, f!, o!, g!) as tf.Scalar; };
const run = (f: () => tf.Scalar) => { const t0 = performance.now(); tf.tidy(() => { const { value, grads } = tf.variableGrads(f, [w as tf.Variable, b as tf.Variable]); value.dataSync(); Object.values(grads).forEach((g) => g.dataSync()); }); return performance.now() - t0; };
run(A); run(Bf);
const ta: number[] = [], tb: number[] = [];
for (let k = 0; k < 4; k++) { ta.push(run(A)); tb.push(run(Bf)); }
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log('A one conv + split:', med(ta).toFixed(0), 'ms;  B four convs:', med(tb).toFixed(0), 'ms', ta.map(Math.round), tb.map(Math.round));
