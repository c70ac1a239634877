/**
 * The model card: written into the package with the figures it was given (steps and training time from
 * the run, licence counts and attribution from the dataset manifest, the evaluation table, the known
 * limits), the loss plot beside it, and the `peerstyle model card` command that wraps it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';

import { modelCommand } from '../../../functions/cli/commands/model';
import { LOSS_PLOT_FILE, MODEL_CARD_FILE, writeModelCard } from '../../../functions/modelcard';
import { formatDuration } from '../../../functions/modelcard/model-card';
import { cardFixture } from './fixtures';

let fx: Awaited<ReturnType<typeof cardFixture>>;
beforeEach(async () => {
  fx = await cardFixture();
});
afterEach(() => rmSync(fx.root, { recursive: true, force: true }));

const evalDoc = {
  pairs: 12,
  metrics: [
    { key: 'ssimLuma', label: 'SSIM luma', description: '' },
    { key: 'gramDistance', label: 'Gram distance', description: '' },
  ],
  summary: {
    tspr: { ssimLuma: { mean: 0.4321, std: 0.0567 }, gramDistance: { mean: 0.1234, std: 0.0111 } },
    reinhard: { ssimLuma: { mean: 0.8765, std: 0.0222 }, gramDistance: { mean: 0.3456, std: 0.0333 } },
  },
};

test('the card holds the data, training, plot, evaluation and limits it was given', async () => {
  const evalJson = path.join(fx.root, 'eval.json');
  writeFileSync(evalJson, JSON.stringify(evalDoc));
  const result = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    evaluations: [{ label: '', file: evalJson }],
    datasetManifests: [fx.dataset],
    knownLimits: ['Faces lose detail above 1024 px.', 'Trained on 5 images only.'],
  });
  expect(result.cardPath).toBe(path.join(fx.packageDir, MODEL_CARD_FILE));
  const card = readFileSync(result.cardPath, 'utf8');
  expect(card).toBe(result.markdown);
  expect(card).toContain('# Model card: card-test 1.2.3');
  // Licences counted per licence, most common first, with every image attributed.
  const listedAs = path.basename(fx.root);
  expect(card).toContain(`Trained on 5 images (2 in ${listedAs}/content/, 3 in ${listedAs}/style/)`);
  expect(card).not.toContain('Held out');
  expect(card).toMatch(/\| CC0-1\.0 \| 3 \|\n\| CC-BY-SA-4\.0 \| 1 \|\n\| public domain \| 1 \|/);
  for (const f of ['a', 'b', 'c', 'd', 'e']) expect(card).toContain(`/usr/share/${f}.png`);
  expect(card).toContain(`\`${listedAs}/style/e.jpg\` from /usr/share/e.png (Debian package pkg-d)`);
  // Steps and time come from the run's weights.json (400, 5400 s), not the manifest's copy (111, 222 s).
  expect(card).toContain('- Steps: 400');
  expect(card).toContain('- Training time: 1 h 30 min');
  expect(card).not.toContain('Steps: 111');
  // The metrics after deduplication: 20 steps, 20..400; the wall span from the `at` stamps is 380 s.
  expect(card).toContain('- Logged steps: 20 (steps 20 to 400, one record per step)');
  expect(card).toContain('- Wall time between the first and last log: 6 min 20 s');
  // Final losses are the resumed run's (×10): 20·e^-2 + 0.01 = 2.717.
  expect(card).toMatch(/\| loss_idt \| [\d.]+ \| 2\.717 \|/);
  expect(card).toContain(`![Training losses, log scale](${LOSS_PLOT_FILE})`);
  expect(card).toContain('Mean ± standard deviation over 12 content × style pairs.');
  expect(card).toContain('| method | SSIM luma | Gram distance |');
  expect(card).toContain('| tspr | 0.4321 ± 0.0567 | 0.1234 ± 0.0111 |');
  expect(card).toContain('| reinhard | 0.8765 ± 0.0222 | 0.3456 ± 0.0333 |');
  expect(card).toContain('- Faces lose detail above 1024 px.\n- Trained on 5 images only.');

  const meta = await sharp(result.plotPath).metadata();
  expect(result.plotPath).toBe(path.join(fx.packageDir, LOSS_PLOT_FILE));
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 960, 540]);
});

test('without an evaluation or limits the card says so instead of inventing figures', async () => {
  const { markdown } = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    datasetManifests: [fx.dataset],
  });
  expect(markdown).toContain('Not measured. Run `peerstyle eval`');
  expect(markdown).toContain('_None recorded yet.');
  expect(markdown).not.toContain('| method |');
});

test('the manifest’s training figures are used when the run kept no weights.json', async () => {
  rmSync(path.join(fx.runDir, 'model'), { recursive: true });
  const { markdown } = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    datasetManifests: [fx.dataset],
  });
  expect(markdown).toContain('- Steps: 111');
  expect(markdown).toContain('- Training time: 3 min 42 s');
  expect(markdown).not.toContain('- Weights:');
});

test('a package of averaged checkpoints says which iterations went in', async () => {
  rmSync(path.join(fx.runDir, 'model'), { recursive: true });
  const manifestFile = path.join(fx.packageDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.training.averagedIterations = [90, 1100, 111];
  writeFileSync(manifestFile, JSON.stringify(manifest));
  const { markdown } = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    datasetManifests: [fx.dataset],
  });
  expect(markdown).toContain('- Weights: the mean of 3 checkpoints of the run, at iterations 90, 1,100, 111');
});

test('the targets an evaluation checked are listed under its table', async () => {
  const evalJson = path.join(fx.root, 'eval.json');
  const targets = [
    { metric: 'ssimLuma', bound: 'halfway', value: 0.4321, limit: 0.5, direction: 'atLeast', met: false },
    { metric: 'gramDistance', bound: '0.85 × Reinhard', value: 0.1234, limit: 0.3456, direction: 'atMost', met: true },
    { metric: 'colourSwd', bound: 'Reinhard', value: 12.268421, limit: 12.272445, direction: 'below', met: true },
  ];
  writeFileSync(evalJson, JSON.stringify({ ...evalDoc, targets }));
  const { markdown } = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    evaluations: [{ label: '', file: evalJson }],
    datasetManifests: [fx.dataset],
  });
  expect(markdown).toContain(
    'Targets: 2 of 3 met.\n\n- SSIM luma 0.4321 ≥ 0.5 (halfway): not met\n- Gram distance 0.1234 ≤ 0.3456 (0.85 × Reinhard): met\n' +
      '- colourSwd 12.2684 < 12.2724 (Reinhard): met',
  );
});

test('an evaluation in another shape still reaches the card, one figure per row', async () => {
  const evalJson = path.join(fx.root, 'other.json');
  writeFileSync(evalJson, JSON.stringify({ fid: 41.25, lpips: { mean: 0.5125 }, note: 'text is skipped' }));
  const { markdown } = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    evaluations: [{ label: '', file: evalJson }],
    datasetManifests: [fx.dataset],
  });
  expect(markdown).toContain('| fid | 41.25 |');
  expect(markdown).toContain('| lpips.mean | 0.5125 |');
  expect(markdown).not.toContain('text is skipped');
});

test('`peerstyle model card` writes both files and needs --run', async () => {
  const evalJson = path.join(fx.root, 'eval.json');
  writeFileSync(evalJson, JSON.stringify(evalDoc));
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await modelCommand([
      'card',
      fx.packageDir,
      '--run',
      fx.runDir,
      '--eval',
      evalJson,
      '--dataset',
      fx.dataset,
      '--limit',
      'Slow above 2048 px.',
    ]);
    expect(code).toBe(0);
    await expect(modelCommand(['card', fx.packageDir])).rejects.toThrow(/--run <run-dir>/);
  } finally {
    write.mockRestore();
  }
  const card = readFileSync(path.join(fx.packageDir, MODEL_CARD_FILE), 'utf8');
  expect(card).toContain('- Slow above 2048 px.');
  expect(card).toContain('| tspr | 0.4321 ± 0.0567 |');
  expect(existsSync(path.join(fx.packageDir, LOSS_PLOT_FILE))).toBe(true);
});

test('held-out images are listed apart from the training images, and each evaluation under its name', async () => {
  const wide = path.join(fx.root, 'wide');
  mkdirSync(wide);
  const entry = (file: string, split: string) => ({ file, split, licence: 'CC0-1.0', source: `/usr/share/${file}` });
  writeFileSync(
    path.join(wide, 'manifest.json'),
    JSON.stringify([
      entry('train/content/p.jpg', 'train'),
      entry('train/style/q.jpg', 'train'),
      entry('heldout/content/r.jpg', 'heldout'),
      entry('heldout/style/s.jpg', 'heldout'),
      entry('heldout/style/t.jpg', 'heldout'),
    ]),
  );
  const heldOutEval = path.join(fx.root, 'heldout.json');
  const trainEval = path.join(fx.root, 'train.json');
  writeFileSync(heldOutEval, JSON.stringify({ ...evalDoc, pairs: 7 }));
  writeFileSync(trainEval, JSON.stringify({ ...evalDoc, pairs: 9 }));
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await modelCommand([
      'card',
      fx.packageDir,
      '--run',
      fx.runDir,
      '--dataset',
      fx.dataset,
      '--dataset',
      path.join(wide, 'manifest.json'),
      '--eval',
      `held-out split=${heldOutEval}`,
      '--eval',
      `training images=${trainEval}`,
    ]);
    expect(code).toBe(0);
  } finally {
    write.mockRestore();
  }
  const card = readFileSync(path.join(fx.packageDir, MODEL_CARD_FILE), 'utf8');
  const listedAs = path.basename(fx.root);
  // 5 from the fixture's manifest and 2 from the training split of the wide one.
  expect(card).toContain(
    `Trained on 7 images (2 in ${listedAs}/content/, 3 in ${listedAs}/style/, 1 in wide/content/, 1 in wide/style/)`,
  );
  expect(card).toContain('Held out: 3 images (1 in wide/content/, 2 in wide/style/)');
  const heldOutList = card.slice(card.indexOf('### Held-out images'));
  expect(heldOutList).toContain('`wide/heldout/style/t.jpg` from /usr/share/heldout/style/t.jpg');
  expect(card.slice(0, card.indexOf('### Held-out images'))).not.toContain('heldout/');
  expect(card).toMatch(/### held-out split\n\nMean ± standard deviation over 7 content × style pairs\./);
  expect(card).toMatch(/### training images\n\nMean ± standard deviation over 9 content × style pairs\./);
  expect(card.indexOf('### held-out split')).toBeLessThan(card.indexOf('### training images'));
});

test('durations read as hours and minutes', () => {
  expect(formatDuration(5400)).toBe('1 h 30 min');
  expect(formatDuration(380)).toBe('6 min 20 s');
  expect(formatDuration(42)).toBe('42 s');
});

test('the rendering-fidelity figures of an evaluation are shown next to the content baseline', async () => {
  const evalJson = path.join(fx.root, 'eval.json');
  const fidelity = {
    reconstruction: {
      contents: 6,
      psnrLuma: { mean: 27.512, std: 1.25, n: 6 },
      psnrRgb: { mean: 25.1, std: 1.5, n: 6 },
      gridScore: { mean: 1.8, std: 0.4, n: 6 },
    },
    // NaN means were written as null: nothing to average.
    gridScore: { reinhard: { mean: null, std: null, n: 0 }, peerstyle: { mean: 3.25, std: 1.1, n: 6 } },
    notes: [],
    targets: [
      { figure: 'psnrLuma', of: 'reconstruction', value: 27.512, limit: 26, direction: 'atLeast', met: true },
      { figure: 'gridScore', of: 'peerstyle', value: 3.25, limit: 2, direction: 'atMost', met: false },
    ],
  };
  writeFileSync(evalJson, JSON.stringify({ ...evalDoc, fidelity }));
  const { markdown } = await writeModelCard({
    packageDir: fx.packageDir,
    runDir: fx.runDir,
    evaluations: [{ label: '', file: evalJson }],
    datasetManifests: [fx.dataset],
  });
  expect(markdown).toContain('| PSNR luma (dB) ↑ | ∞ | – | – | 27.51 ± 1.25 |');
  expect(markdown).toContain('| grid score ↓ | 1 | – | 3.25 ± 1.1 | 1.8 ± 0.4 |');
  expect(markdown).toContain('- PSNR luma (dB) of the reconstructions 27.51 ≥ 26: met');
  expect(markdown).toContain('- grid score of the Peerstyle outputs 3.25 ≤ 2: not met');
});

test('style identification of an evaluation is shown per method, and left out when absent', async () => {
  const evalJson = path.join(fx.root, 'eval.json');
  const identification = {
    content: { mean: 0.5, std: 0.25, n: 8 },
    style: { mean: 1, std: 0, n: 8 },
    reinhard: { mean: 0.52, std: 0.2, n: 8 },
    peerstyle: { mean: 0.7125, std: 0.1, n: 8 },
  };
  const card = async (doc: object) => {
    writeFileSync(evalJson, JSON.stringify(doc));
    const written = await writeModelCard({
      packageDir: fx.packageDir,
      runDir: fx.runDir,
      evaluations: [{ label: '', file: evalJson }],
      datasetManifests: [fx.dataset],
    });
    return written.markdown;
  };
  const shown = await card({ ...evalDoc, identification });
  expect(shown).toContain('| content | style | reinhard | peerstyle |\n|---:|---:|---:|---:|');
  expect(shown).toContain('| 0.5 ± 0.25 | 1 ± 0 | 0.52 ± 0.2 | 0.7125 ± 0.1 |');
  expect(await card(evalDoc)).not.toContain('Style identification');
});
