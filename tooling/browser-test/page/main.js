// The browser test page: imports every vid package (from the packed tarballs), chooses a backend,
// runs the scenario, and leaves the result in window.__vidResult.
import * as tf from '@tensorflow/tfjs-core';
import * as attention from '@vid/attention';
import * as cells from '@vid/cells';
import * as core from '@vid/core';
import * as datasets from '@vid/datasets';
import * as metrics from '@vid/metrics';
import * as models from '@vid/models';
import * as tensorTrain from '@vid/tensor-train';
import * as training from '@vid/training';

import { scenario } from './scenario.js';

const log = document.getElementById('log');
const params = new URLSearchParams(location.search);
const packages = {
  '@vid/core': core,
  '@vid/cells': cells,
  '@vid/attention': attention,
  '@vid/tensor-train': tensorTrain,
  '@vid/models': models,
  '@vid/datasets': datasets,
  '@vid/metrics': metrics,
  '@vid/training': training,
};
try {
  const exportCounts = Object.fromEntries(Object.entries(packages).map(([name, m]) => [name, Object.keys(m).length]));
  const report = await core.initBackend({
    backend: params.get('backend') ?? 'auto',
    wasmPaths: params.get('wasmPaths') ?? '/wasm/',
    log: false,
  });
  const fetchBytes = async (name) => {
    const response = await fetch(`/fixtures/${name}`);
    if (!response.ok) throw new Error(`/fixtures/${name}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const result = await scenario({ tf, core, datasets, models, metrics }, fetchBytes);
  window.__vidResult = { ok: true, backend: report.backend, line: report.line, exportCounts, ...result };
} catch (error) {
  window.__vidResult = { ok: false, error: `${error?.name}: ${error?.message}`, stack: String(error?.stack ?? '') };
}
log.textContent = JSON.stringify(window.__vidResult, null, 2);
