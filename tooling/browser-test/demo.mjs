// The demo's browser test: two tiny runs trained by @vid/train into a scratch runs folder, the
// demo server (`vid demo`) on them, and the built web app in Chromium: pick a run, generate
// Moving MNIST in the page, predict, check the frames and the per-frame metrics, and that no
// request reached the server while predicting. First, unpicked, the page predicts with the shipped
// model (@vid/pretrained). Screenshots and the network log go to artifacts/.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '..', '..', 'apps', 'demo', 'dist', 'web');

/** A tiny run: 16×16 Moving MNIST, 3 → 3 (4 evaluated), a 4-channel encoder-forecaster, 6 steps. */
function tinyConfig(resolveConfig, learningRate) {
  return resolveConfig({
    overrides: {
      seed: 3,
      data: { inputFrames: 3, futureFrames: 3, frameSize: [16, 16], digitSize: 8, trainSamples: 4, validSamples: 2 },
      model: {
        type: 'encoder-forecaster',
        hiddenChannels: [4],
        kernelSize: 3,
        patchSize: 4,
        forecasterInput: 'previous-frame',
        peephole: 'none',
      },
      train: { batchSize: 2, epochs: 3, learningRate, loss: 'l1+mse' },
      validation: { batchSize: 2 },
      evaluation: { futureFrames: 4, samples: 2, gifSamples: 1, protocol: 'standard' },
      checkpoint: { everySteps: 2, keepLast: 1 },
      output: { progress: 'none', logEverySteps: 1 },
    },
  });
}

export async function demoTest(browser, artifacts, expect) {
  const { resolveConfig, train } = await import('@vid/training/node');
  const { startDemo } = await import('@vid/demo');
  const root = await mkdtemp(join(tmpdir(), 'vid-demo-browser-'));
  const runs = join(root, 'runs');
  for (const [name, learningRate] of [
    ['tiny-lr-0.01', 1e-2],
    ['tiny-lr-0.03', 3e-2],
  ]) {
    await train({
      config: tinyConfig(resolveConfig, learningRate),
      runDir: join(runs, name),
      log: () => undefined,
      progress: 'none',
      initBackend: false,
    });
  }
  const server = await startDemo({ port: 0, runsDir: runs, webDir, log: (line) => console.log(line) });
  const base = `http://127.0.0.1:${server.address().port}`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  const network = [];
  const t0 = Date.now();
  page.on('request', (request) =>
    network.push({
      at: Date.now() - t0,
      method: request.method(),
      url: request.url().replace(base, ''),
      phase: 'load',
    }),
  );
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await page.goto(`${base}/`);
    await page.waitForSelector('#backend[data-backend]', { timeout: 60_000 });
    const backend = await page.textContent('#backend');
    console.log(backend);
    await page.waitForSelector('#model-select optgroup', { state: 'attached', timeout: 30_000 });
    const options = await page.$$eval('#model-select option, #model-select optgroup', (nodes) =>
      nodes.map((n) => (n.tagName === 'OPTGROUP' ? `[${n.label}]` : n.textContent)),
    );
    expect(
      options.includes('[Runs (runs/)]') &&
        options.includes('[Shipped (@vid/pretrained)]') &&
        options.some((o) => o.startsWith('mmnist-convttlstm')),
      `demo: the model picker lists the shipped models and the runs: ${options.join(' | ')}`,
    );
    // Unpicked, the page loads the shipped model: generate Moving MNIST (64×64, 10 → 10) and predict.
    await page.waitForFunction(
      () => document.getElementById('model-status')?.textContent?.startsWith('Loaded mmnist-convttlstm'),
      undefined,
      { timeout: 60_000 },
    );
    console.log(await page.textContent('#model-status'));
    await page.click('#mnist-generate');
    await page.waitForFunction(
      () => document.getElementById('input-status')?.textContent?.startsWith('Moving MNIST'),
      undefined,
      { timeout: 30_000 },
    );
    await page.click('#predict');
    await page.waitForSelector('#predict-status[data-done]', { timeout: 120_000 });
    console.log(await page.textContent('#predict-status'));
    const shippedRows = await page.$$eval('#metrics tr[data-frame]', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    console.log(shippedRows.map((r) => r.join('  ')).join('\n'));
    // The first future frame (slider index 10: 10 inputs, then t+1) shows the digits (bright
    // pixels); the last (index 19, t+10) is not a black frame (the shipped models blur by then).
    const share = async (index, level) => {
      await page.fill('#slider', String(index));
      await page.dispatchEvent('#slider', 'input');
      return page.$eval(
        '#view-prediction',
        (canvas, threshold) => {
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let count = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i] > threshold) count++;
          return { width: canvas.width, share: count / (data.length / 4) };
        },
        level,
      );
    };
    const first = await share(10, 128);
    const last = await share(19, 48);
    expect(
      shippedRows.length === 10 && first.width === 64 && first.share > 0.005 && last.share > 0.01,
      `demo: the shipped model predicts 10 frames of 64×64 by default; t+1 has ${(100 * first.share).toFixed(1)}% bright pixels (> 128), t+10 ${(100 * last.share).toFixed(1)}% above 48`,
    );
    await page.screenshot({ path: join(artifacts, 'demo-0-shipped-model.png'), fullPage: true });
    await page.evaluate(() => delete document.getElementById('predict-status').dataset.done);
    await page.waitForSelector('.card .uplot', { timeout: 30_000 });
    await page.selectOption('#model-select', 'run:tiny-lr-0.01');
    await page.waitForFunction(
      () => document.getElementById('model-status')?.textContent?.startsWith('Loaded'),
      undefined,
      { timeout: 60_000 },
    );
    console.log(await page.textContent('#model-status'));
    await page.screenshot({ path: join(artifacts, 'demo-1-model-picker.png'), fullPage: true });

    await page.click('#mnist-generate');
    await page.waitForFunction(
      () => document.getElementById('input-status')?.textContent?.startsWith('Moving MNIST'),
      undefined,
      { timeout: 30_000 },
    );
    const input = await page.textContent('#input-status');
    console.log(input);
    expect(
      /generated by @vid\/datasets in the page/.test(input),
      'demo: Moving MNIST generated in the page by @vid/datasets',
    );

    // The prediction: from the click to the metrics, record every request.
    for (const entry of network) entry.phase = 'before predict';
    const before = network.length;
    await page.click('#predict');
    await page.waitForSelector('#predict-status[data-done]', { timeout: 120_000 });
    const during = network.slice(before);
    for (const entry of during) entry.phase = 'predict';
    console.log(await page.textContent('#predict-status'));
    expect(
      during.length === 0,
      `demo: no request during the prediction (${during.length}: ${during.map((r) => r.url).join(', ')})`,
    );
    const rows = await page.$$eval('#metrics tr[data-frame]', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    console.log(rows.map((r) => r.join('  ')).join('\n'));
    expect(
      rows.length === 4 && rows.every((r) => r.slice(1).every((v) => Number.isFinite(Number(v)))),
      `demo: per-frame MSE/PSNR/SSIM for the 4 future frames`,
    );
    await page.fill('#slider', '4');
    await page.dispatchEvent('#slider', 'input');
    const lit = await page.$eval('#view-prediction', (canvas) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += data[i];
      return { width: canvas.width, height: canvas.height, mean: sum / (data.length / 4) };
    });
    expect(
      lit.width === 16 && lit.mean > 0,
      `demo: the predicted frame is drawn (${lit.width}×${lit.height}, mean grey ${lit.mean.toFixed(1)})`,
    );
    await page.screenshot({ path: join(artifacts, 'demo-2-prediction.png'), fullPage: true });
    const cards = await page.$$eval('.card', (nodes) =>
      nodes.map(
        (n) =>
          `${n.dataset.run}: ${n.querySelectorAll('.uplot').length} chart, ${n.querySelectorAll('table tr').length - 1} summary rows`,
      ),
    );
    expect(cards.length === 2, `demo: runs side by side (${cards.join('; ')})`);
    await (await page.$('#runs-section')).screenshot({ path: join(artifacts, 'demo-3-charts.png') });
    // The GIF download.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#gif')]);
    const gifPath = join(artifacts, 'demo-prediction.gif');
    await download.saveAs(gifPath);
    expect(true, `demo: GIF downloaded (${download.suggestedFilename()})`);
    // A drawing as input: a stroke that moves right by 1 px per frame.
    await page.click('.tab[data-tab="draw"]');
    const box = await (await page.$('#draw-canvas')).boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 8 });
    await page.mouse.up();
    await page.click('#draw-use');
    await page.evaluate(() => delete document.getElementById('predict-status').dataset.done);
    await page.click('#predict');
    await page.waitForSelector('#predict-status[data-done]', { timeout: 120_000 });
    const drawn = await page.textContent('#input-status');
    expect(
      drawn.startsWith('a drawing') && (await page.$$('#metrics tr[data-frame]')).length === 4,
      `demo: a drawing as input, predicted (${drawn})`,
    );
    expect(errors.length === 0, `demo: no page errors${errors.length ? `: ${errors.join('; ')}` : ''}`);
  } catch (error) {
    await page.screenshot({ path: join(artifacts, 'demo-failure.png'), fullPage: true }).catch(() => undefined);
    expect(
      false,
      `demo: ${error.message.split('\n')[0]}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`,
    );
  } finally {
    await writeFile(join(artifacts, 'demo-network.json'), `${JSON.stringify(network, null, 2)}\n`);
    await page.close();
    await new Promise((done) => server.close(done));
    await rm(root, { recursive: true, force: true });
  }
}
