/**
 * The vid demo web app. Everything runs in the page: the backend is the best one the visitor's
 * browser has (webgpu → webgl → wasm → cpu, or `?backend=<name>`), models load from runs served
 * by `vid demo`, from dropped files or from shipped weights, inputs are generated or captured
 * here, and @vid/metrics scores each predicted frame. The server only lists runs and serves files.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';

import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, type BackendReport, initBackend } from '@vid/core';
import { type DigitSet, MovingMnist, digitSetFromArray, parseIdx } from '@vid/datasets';
import { FrameMetrics, type FrameMetricsResult } from '@vid/metrics';
import type { VideoPredictor } from '@vid/models';
import { GIFEncoder } from 'gifenc';
import uPlot from 'uplot';

import { DEFAULT_MODEL, PRETRAINED, fetchBytes, predictorFromBytes } from './model.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

function setStatus(id: string, text: string, error = false): void {
  const element = $(id);
  element.textContent = text;
  element.classList.toggle('error', error);
}

const message = (error: unknown): string =>
  error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);

// ─── Backend ─────────────────────────────────────────────────────────────────────────────────
const params = new URLSearchParams(location.search);
const backendReady: Promise<BackendReport> = initBackend({
  backend: (params.get('backend') as BackendName | null) ?? 'auto',
  wasmPaths: {
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
  },
  log: false,
});
backendReady.then(
  (report) => {
    $('backend').textContent = `Backend: ${report.line.replace(/^vid: backend /, '')}`;
    $('backend').dataset.backend = report.backend;
  },
  (error: unknown) => setStatus('backend', `No backend: ${message(error)}`, true),
);

// ─── State ───────────────────────────────────────────────────────────────────────────────────
interface Sequence {
  /** `[time, height, width]` in [0, 1]. */
  readonly frames: Float32Array;
  readonly inputFrames: number;
  readonly futureFrames: number;
  readonly height: number;
  readonly width: number;
  readonly source: string;
}

let model: { predictor: VideoPredictor; label: string } | undefined;
let sequence: Sequence | undefined;
let prediction: Float32Array | undefined;
let metrics: FrameMetricsResult | undefined;
let frameIndex = 0;

const numberField = (id: string): number => Number(($(id) as HTMLInputElement).value);
const sizes = (): { size: number; inputFrames: number; futureFrames: number } => ({
  size: numberField('frame-size'),
  inputFrames: numberField('input-frames'),
  futureFrames: numberField('future-frames'),
});

function updatePredictButton(): void {
  ($('predict') as HTMLButtonElement).disabled = !(model && sequence);
}

// ─── Model picker ────────────────────────────────────────────────────────────────────────────
interface RunListing {
  readonly name: string;
  readonly files: readonly string[];
  readonly weights: string | null;
}

let runs: RunListing[] = [];
const select = $('model-select') as HTMLSelectElement;

function fillPicker(): void {
  const group = (label: string, options: Array<[string, string]>): void => {
    if (options.length === 0) return;
    const element = document.createElement('optgroup');
    element.label = label;
    for (const [value, text] of options) element.append(new Option(text, value));
    select.append(element);
  };
  group(
    'Shipped (@vid/pretrained)',
    PRETRAINED.map((p) => [`pretrained:${p.name}`, `${p.name} — ${p.description}`]),
  );
  group(
    'Runs (runs/)',
    runs.filter((r) => r.weights).map((r) => [`run:${r.name}`, r.name]),
  );
  // Until the visitor picks one, the shipped model predicts (or the one `?model=` names).
  if (!model && !select.value) {
    const wanted = params.get('model') ?? DEFAULT_MODEL;
    const value = PRETRAINED.some((p) => p.name === wanted) ? `pretrained:${wanted}` : `run:${wanted}`;
    if ([...select.options].some((option) => option.value === value)) {
      select.value = value;
      select.dispatchEvent(new Event('change'));
    }
  }
}

// The latest pick wins: a slower load that finishes after a newer pick is dropped.
let loadToken = 0;

async function useModel(load: () => Promise<VideoPredictor>, label: string): Promise<void> {
  const token = ++loadToken;
  setStatus('model-status', `Loading ${label}…`);
  try {
    await backendReady;
    const predictor = await load();
    if (token !== loadToken) {
      predictor.dispose();
      return;
    }
    model?.predictor.dispose();
    model = { predictor, label };
    const parameters = predictor.module?.numParameters() ?? 0;
    setStatus('model-status', `Loaded ${label}: ${predictor.kind}, ${parameters.toLocaleString('en')} parameters.`);
  } catch (error) {
    if (token === loadToken) setStatus('model-status', `Could not load ${label}: ${message(error)}`, true);
  }
  updatePredictButton();
}

select.addEventListener('change', () => {
  const [kind, name] = select.value.split(/:(.*)/s) as [string, string];
  if (kind === 'run') {
    const run = runs.find((r) => r.name === name);
    if (!run?.weights) return;
    void useModel(async () => {
      const config = (await (await fetch(`./runs/${encodeURIComponent(run.name)}/config.json`)).json()) as {
        data?: { frameSize?: number[]; inputFrames?: number; digitSize?: number; numDigits?: number };
        evaluation?: { futureFrames?: number };
      };
      // The run's data settings become the input's.
      const set = (id: string, value: number | undefined): void => {
        if (value !== undefined) ($(id) as HTMLInputElement).value = String(value);
      };
      set('frame-size', config.data?.frameSize?.[0]);
      set('input-frames', config.data?.inputFrames);
      set('future-frames', config.evaluation?.futureFrames);
      set('mnist-digit-size', config.data?.digitSize);
      return predictorFromBytes(
        await fetchBytes(`./runs/${run.weights!.split('/').map(encodeURIComponent).join('/')}`),
        'model.safetensors',
      );
    }, `run ${run.name}`);
  } else if (kind === 'pretrained') {
    const entry = PRETRAINED.find((p) => p.name === name);
    if (entry)
      void useModel(
        async () => predictorFromBytes(await fetchBytes(entry.url), entry.url.split('/').pop() ?? entry.name),
        entry.name,
      );
  }
});

function loadFile(file: File): void {
  void useModel(
    async () =>
      predictorFromBytes(
        new Uint8Array(await file.arrayBuffer()),
        file.name,
        ($('model-config') as HTMLTextAreaElement).value,
      ),
    file.name,
  );
}

const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  const file = event.dataTransfer?.files[0];
  if (file) loadFile(file);
});
$('model-file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) loadFile(file);
});

// ─── Inputs ──────────────────────────────────────────────────────────────────────────────────
for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('.tab')) other.classList.toggle('active', other === tab);
    for (const body of document.querySelectorAll<HTMLElement>('.tab-body'))
      body.hidden = body.dataset.body !== tab.dataset.tab;
  });
}

function setSequence(next: Sequence): void {
  sequence = next;
  prediction = undefined;
  metrics = undefined;
  ($('gif') as HTMLButtonElement).disabled = true;
  $('metrics').hidden = true;
  setStatus(
    'input-status',
    `${next.source}: ${next.inputFrames} input + ${next.futureFrames} future frames of ${next.height}×${next.width}.`,
  );
  const slider = $('slider') as HTMLInputElement;
  slider.max = String(next.inputFrames + next.futureFrames - 1);
  showFrame(0);
  updatePredictButton();
}

let digits: Promise<DigitSet> | undefined;
function loadDigits(): Promise<DigitSet> {
  digits ??= (async () => {
    const [images, labels] = await Promise.all([fetchBytes('./mnist-digits.idx'), fetchBytes('./mnist-labels.idx')]);
    const imageTensor = parseIdx(images, 'mnist-digits.idx');
    const labelTensor = parseIdx(labels, 'mnist-labels.idx');
    const [count, height, width] = imageTensor.shape as [number, number, number];
    return digitSetFromArray(
      imageTensor.data as Uint8Array,
      [count, height, width],
      labelTensor.data as Uint8Array,
      'MNIST test digits',
    );
  })();
  return digits;
}

$('mnist-generate').addEventListener('click', () => {
  void (async () => {
    try {
      const { size, inputFrames, futureFrames } = sizes();
      const set = await loadDigits();
      const classes = ($('mnist-digits') as HTMLInputElement).value
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
      if (classes.some((c) => !Number.isInteger(c) || c < 0 || c > 9))
        throw new Error('digits: expected digit classes 0–9 separated by spaces, like "3 7"');
      const seed = ($('mnist-seed') as HTMLInputElement).value || '0';
      const generator = new MovingMnist({
        digits: set,
        numDigits: classes.length || 2,
        sequenceLength: inputFrames + futureFrames,
        canvasSize: size,
        digitSize: Math.min(numberField('mnist-digit-size'), size),
        stepLength: numberField('mnist-speed'),
        seed,
      });
      let clip = generator.sequence(0);
      if (classes.length) {
        // The seeded motions, with images of the chosen classes (the seed picks which image).
        const labels = set.labels!;
        const indices = classes.map((digit, i) => {
          const matching: number[] = [];
          for (let k = 0; k < set.count; k++) if (labels[k] === digit) matching.push(k);
          return matching[(clip.digitIndices[i] ?? 0) % matching.length]!;
        });
        clip = generator.render(indices, clip.motions.slice(0, classes.length), clip.id);
      }
      const frames = Float32Array.from(clip.frames, (v) => v / 255);
      setSequence({
        frames,
        inputFrames,
        futureFrames,
        height: size,
        width: size,
        source: `Moving MNIST (digits ${classes.length ? classes.join(', ') : 'random'}, seed ${seed}), generated by @vid/datasets in the page`,
      });
    } catch (error) {
      setStatus('input-status', message(error), true);
    }
  })();
});

/** Grey `[height, width]` in [0, 1] of a drawable, centre-cropped to a square. */
function greyFrame(
  source: CanvasImageSource,
  sourceWidth: number,
  sourceHeight: number,
  size: number,
  offset: [number, number] = [0, 0],
): Float32Array {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.fillStyle = 'black';
  context.fillRect(0, 0, size, size);
  const side = Math.min(sourceWidth, sourceHeight);
  context.drawImage(
    source,
    (sourceWidth - side) / 2,
    (sourceHeight - side) / 2,
    side,
    side,
    offset[0],
    offset[1],
    size,
    size,
  );
  const { data } = context.getImageData(0, 0, size, size);
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++)
    out[i] = (0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!) / 255;
  return out;
}

async function clipFromVideo(video: HTMLVideoElement, live: boolean, source: string): Promise<void> {
  const { size, inputFrames, futureFrames } = sizes();
  const total = inputFrames + futureFrames;
  const frames = new Float32Array(total * size * size);
  for (let t = 0; t < total; t++) {
    if (live) await new Promise((done) => setTimeout(done, 100));
    else {
      video.currentTime = Math.min(t * 0.1, Math.max(0, video.duration - 0.01));
      await new Promise((done) => video.addEventListener('seeked', done, { once: true }));
    }
    frames.set(greyFrame(video, video.videoWidth, video.videoHeight, size), t * size * size);
  }
  setSequence({ frames, inputFrames, futureFrames, height: size, width: size, source });
}

$('video-file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  const video = $('video') as HTMLVideoElement;
  video.src = URL.createObjectURL(file);
  video.addEventListener(
    'loadeddata',
    () =>
      void clipFromVideo(video, false, `${file.name} (frames 0.1 s apart)`).catch((error: unknown) =>
        setStatus('input-status', message(error), true),
      ),
    { once: true },
  );
});

$('camera').addEventListener('click', () => {
  void (async () => {
    const video = $('video') as HTMLVideoElement;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      video.srcObject = stream;
      await video.play();
      setStatus('input-status', 'Recording…');
      await clipFromVideo(video, true, 'camera (frames 0.1 s apart)');
      for (const track of stream.getTracks()) track.stop();
    } catch (error) {
      setStatus('input-status', `camera: ${message(error)}`, true);
    }
  })();
});

const drawCanvas = $('draw-canvas') as HTMLCanvasElement;
const drawContext = drawCanvas.getContext('2d')!;
function clearDrawing(): void {
  drawContext.fillStyle = 'black';
  drawContext.fillRect(0, 0, drawCanvas.width, drawCanvas.height);
}
clearDrawing();
let drawing = false;
const point = (event: PointerEvent): [number, number] => {
  const rect = drawCanvas.getBoundingClientRect();
  return [
    ((event.clientX - rect.left) * drawCanvas.width) / rect.width,
    ((event.clientY - rect.top) * drawCanvas.height) / rect.height,
  ];
};
drawCanvas.addEventListener('pointerdown', (event) => {
  drawing = true;
  drawContext.beginPath();
  drawContext.moveTo(...point(event));
});
drawCanvas.addEventListener('pointermove', (event) => {
  if (!drawing) return;
  drawContext.strokeStyle = 'white';
  drawContext.lineWidth = 22;
  drawContext.lineCap = 'round';
  drawContext.lineTo(...point(event));
  drawContext.stroke();
});
window.addEventListener('pointerup', () => (drawing = false));
$('draw-clear').addEventListener('click', clearDrawing);
$('draw-use').addEventListener('click', () => {
  const { size, inputFrames, futureFrames } = sizes();
  const total = inputFrames + futureFrames;
  const [vx, vy] = [numberField('draw-vx'), numberField('draw-vy')];
  const frames = new Float32Array(total * size * size);
  for (let t = 0; t < total; t++)
    frames.set(greyFrame(drawCanvas, drawCanvas.width, drawCanvas.height, size, [vx * t, vy * t]), t * size * size);
  setSequence({
    frames,
    inputFrames,
    futureFrames,
    height: size,
    width: size,
    source: `a drawing moving by (${vx}, ${vy}) px per frame`,
  });
});

// ─── Prediction ──────────────────────────────────────────────────────────────────────────────
$('predict').addEventListener('click', () => {
  void (async () => {
    if (!model || !sequence) return;
    const { height, width, inputFrames, futureFrames, frames } = sequence;
    const report = await backendReady;
    setStatus('predict-status', `Predicting on ${report.backend}…`);
    const started = performance.now();
    // Freed on every path: a failed prediction (wrong frame size, channels) must not leak them.
    let context: tf.Tensor5D | undefined;
    let truth: tf.Tensor5D | undefined;
    let output: tf.Tensor | undefined;
    try {
      const pixels = height * width;
      context = tf.tensor5d(frames.subarray(0, inputFrames * pixels), [1, inputFrames, height, width, 1]);
      truth = tf.tensor5d(frames.subarray(inputFrames * pixels, (inputFrames + futureFrames) * pixels), [
        1,
        futureFrames,
        height,
        width,
        1,
      ]);
      const input = context;
      output = tf.tidy(() => tf.clipByValue(model!.predictor.predict(input, futureFrames), 0, 1));
      prediction = (await output.data()) as Float32Array;
      const seconds = (performance.now() - started) / 1000;
      const evaluator = new FrameMetrics({ metrics: ['mse', 'psnr', 'ssim'] });
      await evaluator.update(output, truth);
      metrics = evaluator.result();
      setStatus(
        'predict-status',
        `Predicted ${futureFrames} frames with ${model.label} on ${report.backend} in ${seconds.toFixed(2)} s (in this page).`,
      );
      $('predict-status').dataset.done = 'true';
      ($('gif') as HTMLButtonElement).disabled = false;
      renderMetrics();
      showFrame(inputFrames);
    } catch (error) {
      setStatus('predict-status', `Prediction failed: ${message(error)}`, true);
    } finally {
      tf.dispose([context, truth, output].filter((t): t is tf.Tensor => t !== undefined));
    }
  })();
});

function renderMetrics(): void {
  if (!metrics || !sequence) return;
  const table = $('metrics') as HTMLTableElement;
  const names = ['mse', 'psnr', 'ssim'] as const;
  const header = `<tr><th>future frame</th>${names.map((n) => `<th>${n.toUpperCase()}${n === 'psnr' ? ' (dB)' : ''}</th>`).join('')}</tr>`;
  const rows = Array.from(
    { length: metrics.frames },
    (_, k) =>
      `<tr data-frame="${sequence!.inputFrames + k}"><td>${k + 1}</td>${names.map((n) => `<td>${format(metrics!.metrics[n]?.perFrame[k], n)}</td>`).join('')}</tr>`,
  );
  const mean = `<tr><td><b>mean</b></td>${names.map((n) => `<td><b>${format(metrics!.metrics[n]?.mean, n)}</b></td>`).join('')}</tr>`;
  table.innerHTML = `<caption>Per-frame metrics, computed in the page by @vid/metrics</caption>${header}${rows.join('')}${mean}`;
  table.hidden = false;
}

const format = (value: number | null | undefined, name: string): string =>
  typeof value !== 'number' || !Number.isFinite(value)
    ? '–'
    : name === 'mse'
      ? value.toFixed(5)
      : name === 'psnr'
        ? value.toFixed(2)
        : value.toFixed(4);

// ─── Viewer ──────────────────────────────────────────────────────────────────────────────────
function paint(canvasId: string, data: Float32Array | undefined, offset: number, height: number, width: number): void {
  const canvas = $(canvasId) as HTMLCanvasElement;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(width, height);
  for (let i = 0; i < height * width; i++) {
    const value = data ? Math.round(255 * Math.min(1, Math.max(0, data[offset + i] ?? 0))) : 0;
    image.data.set([value, value, value, 255], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

function showFrame(index: number): void {
  if (!sequence) return;
  const { height, width, inputFrames, futureFrames, frames } = sequence;
  const pixels = height * width;
  frameIndex = Math.max(0, Math.min(index, inputFrames + futureFrames - 1));
  ($('slider') as HTMLInputElement).value = String(frameIndex);
  const future = frameIndex - inputFrames;
  paint('view-input', frames, Math.min(frameIndex, inputFrames - 1) * pixels, height, width);
  paint('view-truth', future >= 0 ? frames : undefined, frameIndex * pixels, height, width);
  paint('view-prediction', future >= 0 ? prediction : undefined, future * pixels, height, width);
  $('frame-label').textContent =
    future < 0 ? `input frame ${frameIndex + 1} of ${inputFrames}` : `future frame ${future + 1} of ${futureFrames}`;
  for (const row of document.querySelectorAll<HTMLTableRowElement>('#metrics tr[data-frame]'))
    row.classList.toggle('current', Number(row.dataset.frame) === frameIndex);
}

$('slider').addEventListener('input', (event) => showFrame(Number((event.target as HTMLInputElement).value)));
let timer: ReturnType<typeof setInterval> | undefined;
$('play').addEventListener('click', () => {
  if (timer) {
    clearInterval(timer);
    timer = undefined;
    $('play').textContent = '▶ Play';
    return;
  }
  $('play').textContent = '❚❚ Pause';
  timer = setInterval(() => {
    if (!sequence) return;
    showFrame((frameIndex + 1) % (sequence.inputFrames + sequence.futureFrames));
  }, 200);
});

$('gif').addEventListener('click', () => {
  if (!sequence || !prediction) return;
  const { height, width, inputFrames, futureFrames, frames } = sequence;
  const pixels = height * width;
  const scale = Math.max(1, Math.floor(128 / height));
  const gap = 2;
  const W = (3 * width + 2 * gap) * scale;
  const H = height * scale;
  const palette = Array.from({ length: 256 }, (_, v) => [v, v, v]);
  const gif = GIFEncoder();
  for (let t = 0; t < inputFrames + futureFrames; t++) {
    const index = new Uint8Array(W * H);
    const future = t - inputFrames;
    const panels: Array<[Float32Array | undefined, number]> = [
      [frames, Math.min(t, inputFrames - 1) * pixels],
      [future >= 0 ? frames : undefined, t * pixels],
      [future >= 0 ? prediction : undefined, future * pixels],
    ];
    panels.forEach(([data, offset], p) => {
      if (!data) return;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < width * scale; x++) {
          const value = data[offset + Math.floor(y / scale) * width + Math.floor(x / scale)] ?? 0;
          index[y * W + p * (width + gap) * scale + x] = Math.round(255 * Math.min(1, Math.max(0, value)));
        }
      }
    });
    gif.writeFrame(index, W, H, { palette, delay: 200 });
  }
  gif.finish();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([gif.bytes() as BlobPart], { type: 'image/gif' }));
  link.download = 'vid-prediction.gif';
  link.click();
});

// ─── Runs: curves and summaries, side by side ────────────────────────────────────────────────
interface MetricsRecord {
  readonly type: string;
  readonly step: number;
  readonly [key: string]: unknown;
}

async function runCard(run: RunListing): Promise<HTMLElement> {
  const card = document.createElement('div');
  card.className = 'card';
  card.dataset.run = run.name;
  card.innerHTML = `<h3>${escapeHtml(run.name)}</h3>`;
  const base = `./runs/${encodeURIComponent(run.name)}`;
  if (run.files.includes('metrics.jsonl')) {
    const text = await (await fetch(`${base}/metrics.jsonl`)).text();
    const records = text
      .split('\n')
      .filter((line) => line.trim())
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as MetricsRecord];
        } catch {
          return [];
        }
      });
    const steps = [...new Set(records.filter((r) => r.type === 'train' || r.type === 'valid').map((r) => r.step))].sort(
      (a, b) => a - b,
    );
    const series = (type: string, key: string): Array<number | null> =>
      steps.map(
        (step) => (records.find((r) => r.type === type && r.step === step)?.[key] as number | undefined) ?? null,
      );
    const chart = document.createElement('div');
    card.append(chart);
    new uPlot(
      {
        width: 400,
        height: 220,
        scales: { x: { time: false } },
        series: [
          { label: 'step' },
          { label: 'train loss', stroke: '#0b5cad', spanGaps: true },
          { label: 'valid loss', stroke: '#d9480f', spanGaps: true, points: { show: true } },
          { label: 'valid MSE', stroke: '#2b8a3e', spanGaps: true, points: { show: true } },
        ],
      },
      [steps, series('train', 'loss'), series('valid', 'loss'), series('valid', 'mse')],
      chart,
    );
  }
  if (run.files.includes('summary.json')) {
    const summary = (await (await fetch(`${base}/summary.json`)).json()) as {
      step?: number;
      model?: FrameMetricsResult;
      baseline?: FrameMetricsResult | null;
    };
    const names = Object.keys(summary.model?.metrics ?? {}) as Array<keyof FrameMetricsResult['metrics']>;
    const rows = names.map(
      (name) =>
        `<tr><td>${name.toUpperCase()}</td><td>${format(summary.model?.metrics[name]?.mean, name)}</td><td>${format(summary.baseline?.metrics[name]?.mean, name)}</td></tr>`,
    );
    const table = document.createElement('table');
    table.innerHTML = `<caption>summary at step ${summary.step ?? '?'} (${summary.model?.protocol ?? ''} protocol, ${summary.model?.frames ?? '?'} future frames)</caption><tr><th>metric</th><th>model</th><th>copy last frame</th></tr>${rows.join('')}`;
    card.append(table);
  } else {
    card.append(
      Object.assign(document.createElement('p'), {
        className: 'status',
        textContent: 'No summary yet: the run is going on or was interrupted.',
      }),
    );
  }
  return card;
}

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

async function showRuns(): Promise<void> {
  try {
    const response = await fetch('./api/runs');
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    runs = ((await response.json()) as { runs: RunListing[] }).runs;
  } catch {
    setStatus(
      'runs-status',
      'No run server here (a static copy of the demo): drop a weights file to predict. `vid demo` serves the runs in runs/.',
    );
    fillPicker();
    return;
  }
  fillPicker();
  if (runs.length === 0) {
    setStatus('runs-status', 'No runs yet. Train one with `npx -y pnpm@10.34.9 turbo train`.');
    return;
  }
  setStatus(
    'runs-status',
    `${runs.length} run${runs.length === 1 ? '' : 's'}. Tick runs to compare them side by side.`,
  );
  const picks = $('run-picks');
  const cards = $('run-cards');
  const shown = new Map<string, HTMLElement>();
  runs.forEach((run, i) => {
    const label = document.createElement('label');
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: i < 2 });
    label.append(box, ` ${run.name}`);
    picks.append(label);
    const toggle = async (): Promise<void> => {
      if (box.checked) {
        const card = await runCard(run);
        shown.set(run.name, card);
        cards.append(card);
      } else {
        shown.get(run.name)?.remove();
        shown.delete(run.name);
      }
    };
    box.addEventListener('change', () => void toggle());
    if (box.checked) void toggle();
  });
}

void showRuns();
