import * as tf from '@tensorflow/tfjs-core';
import { Adam, initBackend, Conv2d } from '@vid/core';
await initBackend();
const [B, T, S, C] = [Number(process.env.B ?? 8), 19, 16, 16];
const H = Number(process.env.HID ?? 32), K = Number(process.env.K ?? 3), L = Number(process.env.L ?? 1);
const convs = []; const params = [];
for (let l = 0; l < L; l++) { const cin = (l === 0 ? C : H) + H; const c = new Conv2d({ inChannels: cin, outChannels: 4 * H, kernelSize: K, seed: l }); convs.push(c); params.push(...c.namedParameters().map(([n, v]) => [`l${l}.${n}`, v])); }
const out = new Conv2d({ inChannels: H, outChannels: C, kernelSize: 1, seed: 9 }); params.push(...out.namedParameters().map(([n, v]) => [`out.${n}`, v]));
const adam = new Adam(params, { lr: 1e-3 });
const x = tf.randomUniform([T + 1, B, S, S, C]);
const frames = tf.unstack(x);
const step = async () => {
  const { value, grads } = adam.computeGradients(() => {
    const hs = convs.map(() => tf.zeros([B, S, S, H])); const cs = convs.map(() => tf.zeros([B, S, S, H]));
    let loss = tf.scalar(0);
    for (let t = 0; t < T; t++) {
      let inp = frames[t];
      for (let l = 0; l < L; l++) {
        const z = convs[l].apply(tf.concat([inp, hs[l]], -1));
        const [i, f, o, g] = tf.split(z, 4, -1);
        cs[l] = tf.add(tf.mul(tf.sigmoid(f), cs[l]), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        hs[l] = tf.mul(tf.sigmoid(o), tf.tanh(cs[l])); inp = hs[l];
      }
      const y = out.apply(inp);
      const d = tf.sub(y, frames[t + 1]);
      loss = tf.add(loss, tf.add(tf.mean(tf.abs(d)), tf.mean(tf.square(d))));
    }
    return loss;
  });
  adam.applyGradients(grads); await value.data(); value.dispose(); grads.forEach((g) => g.dispose());
};
await step();
const times = [];
for (let i = 0; i < 5; i++) { const s = performance.now(); await step(); times.push(performance.now() - s); }
console.log(JSON.stringify({ B, H, K, L, ms: times.map(Math.round) }));
