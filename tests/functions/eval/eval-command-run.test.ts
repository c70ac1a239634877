/**
 * `peerstyle eval` end to end: the real command, the real engine and a real exported model package
 * (random tiny weights, so the figures say nothing about quality, only that every part is wired), on
 * two photos and one painting. The command must print the table and write the three files, with the
 * rendering-fidelity figures (strength-0 reconstruction PSNR, grid scores) in each of them.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { EvalJson } from '../../../functions/eval/report';
import { contactSheetSize } from '../../../functions/eval/contact-sheet';
import { runCli } from '../../support/run-cli';
import { exportTinyPackage } from '../../support/tiny-package';
import { FIXTURES } from './images';

let modelDir: string;
let contentDir: string;
let styleDir: string;
beforeAll(async () => {
  const exported = await exportTinyPackage(11);
  exported.store.dispose();
  modelDir = exported.dir;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-eval-data-'));
  contentDir = path.join(root, 'content');
  styleDir = path.join(root, 'style');
  await fs.mkdir(contentDir);
  await fs.mkdir(styleDir);
  for (const f of ['photo-1.jpg', 'photo-5.png']) await fs.copyFile(path.join(FIXTURES, f), path.join(contentDir, f));
  await fs.copyFile(path.join(FIXTURES, 'painting-3.jpg'), path.join(styleDir, 'painting-3.jpg'));
});

afterAll(async () => {
  await fs.rm(modelDir, { recursive: true, force: true });
});

/** `peerstyle eval --record` of the test folders with the test model, on one thread. */
function evalAndRecord(out: string, extra: string[] = []): ReturnType<typeof runCli> {
  return runCli([
    'eval',
    '--content',
    contentDir,
    '--style',
    styleDir,
    '--out',
    out,
    '--model',
    modelDir,
    '--threads',
    '1',
    ...extra,
    '--record',
  ]);
}

it('stylises every pair with the model, prints the table and writes eval.md, eval.json and the sheet', async () => {
  const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-eval-out-')), 'report');
  const r = await evalAndRecord(out);
  expect(r.stderr).toMatch(/\[2\/2\] photo-5\.png × painting-3\.jpg/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^\| peerstyle \| [0-9.]+ ± [0-9.]+ \|/m);

  const json = JSON.parse(await fs.readFile(path.join(out, 'eval.json'), 'utf8')) as EvalJson;
  expect(json.pairs).toBe(2);
  expect(json.model).toBe(modelDir);
  // A random model does not return its input: its figures differ from the content baseline's.
  expect(json.summary.peerstyle.ssimLuma.mean).toBeLessThan(1);
  expect(json.summary.content.ssimLuma.mean).toBe(1);
  const md = await fs.readFile(path.join(out, 'eval.md'), 'utf8');
  expect(md).toContain('| peerstyle |');
  expect(r.stderr).toMatch(/\[strength 0: 2\/2\] photo-5\.png/);

  // The fidelity figures: each content reconstructed once; 80 × 60 images give a 32 px grid crop.
  const { fidelity } = json;
  expect(fidelity.reconstruction.contents).toBe(2);
  expect(json.perContent.map((c) => c.content)).toEqual(['photo-1.jpg', 'photo-5.png']);
  for (const c of json.perContent) {
    // A random decoder does not give the content back, but it draws something of its size.
    expect(c.psnrLuma).toBeGreaterThan(0);
    expect(c.psnrLuma).toBeLessThan(100);
    expect(c.psnrRgb).toBeGreaterThan(0);
    expect(c.gridScore).toBeGreaterThan(0);
  }
  expect(fidelity.reconstruction.psnrLuma.n).toBe(2);
  expect(fidelity.gridScore.peerstyle.n).toBe(2);
  expect(fidelity.gridScore.reinhard.n).toBe(2);
  expect(fidelity.notes).toEqual([]); // the engine returned every output at the size asked for
  expect(fidelity.targets.map((t) => t.figure)).toEqual(['psnrLuma', 'gridScore']);
  const psnr = fidelity.reconstruction.psnrLuma;
  expect(md).toContain(`| PSNR luma (dB) ↑ | ∞ | – | – | ${psnr.mean.toFixed(2)} ± ${psnr.std.toFixed(2)} |`);
  const grid = fidelity.gridScore.peerstyle;
  expect(md).toMatch(
    new RegExp(
      `^\\| grid score ↓ \\| 1 \\| [0-9.]+ ± [0-9.]+ \\| ${grid.mean.toFixed(3)} ± ${grid.std.toFixed(3)} \\|`,
      'm',
    ),
  );
  expect(md).toMatch(/^Fidelity targets: [0-2] of 2 met\.$/m);
  const meta = await sharp(path.join(out, 'contact-sheet.png')).metadata();
  // Every image of a row has its content's size, so the contents alone lay the sheet out.
  const rows = await Promise.all(
    ['photo-1.jpg', 'photo-5.png'].map(async (name) => {
      const { width = 0, height = 0 } = await sharp(path.join(contentDir, name)).metadata();
      const size = { width, height };
      return {
        content: name,
        style: 'painting-3.jpg',
        images: { content: size, style: size, reinhard: size, peerstyle: size },
      };
    }),
  );
  expect({ width: meta.width, height: meta.height }).toEqual(contactSheetSize(rows));

  // --record put the same figures into the package's manifest, and the package still checks out.
  const manifest = JSON.parse(await fs.readFile(path.join(modelDir, 'manifest.json'), 'utf8'));
  expect(manifest.eval.summary).toEqual(json.summary);
  expect(manifest.eval.pairs).toBe(2);
  expect(manifest.eval.fidelity).toEqual(json.fidelity);
  expect(manifest.eval.size).toBeNull();
  const inspect = await runCli(['model', 'inspect', modelDir]);
  expect(inspect.code).toBe(0);
  expect(inspect.stdout).toMatch(/check\s+ok/);
  // The recorded figures, readable: the means of eval.json, and how many targets they meet.
  const ssim = json.summary.peerstyle.ssimLuma.mean.toFixed(3);
  const met = [...json.targets, ...json.fidelity.targets].filter((t) => t.met).length;
  expect(inspect.stdout).toContain(`eval      2 pairs: SSIM luma ${ssim}, Gram `);
  expect(inspect.stdout).toMatch(new RegExp(`; targets met ${met} of 5\\n`));

  // The structure mode reaches the engine (other figures) and the recorded figures name it.
  const keptOut = path.join(path.dirname(out), 'kept');
  const kept = await evalAndRecord(keptOut, ['--structure', 'keep', '--sheet-cell', '80']);
  expect(kept.code).toBe(0);
  // With --sheet-cell 80 the 80 px wide contents take the sheet at 1:1 instead of 2× their width.
  const keptSheet = await sharp(path.join(keptOut, 'contact-sheet.png')).metadata();
  expect({ width: keptSheet.width, height: keptSheet.height }).toEqual(contactSheetSize(rows, 80));
  expect(keptSheet.width).toBe(4 * 80 + 5 * 8);
  const keptJson = JSON.parse(await fs.readFile(path.join(keptOut, 'eval.json'), 'utf8')) as EvalJson;
  expect(keptJson.summary.peerstyle.ssimLuma.mean).not.toBe(json.summary.peerstyle.ssimLuma.mean);
  expect(JSON.parse(await fs.readFile(path.join(modelDir, 'manifest.json'), 'utf8')).eval.structure).toBe('keep');

  // So does the style images' side (the contents are 80 px wide, the engine's default style side).
  const styleOut = path.join(path.dirname(out), 'style-64');
  const small = await evalAndRecord(styleOut, ['--style-size', '64']);
  expect(small.code).toBe(0);
  const smallJson = JSON.parse(await fs.readFile(path.join(styleOut, 'eval.json'), 'utf8')) as EvalJson;
  expect(smallJson.summary.peerstyle.gramDistance.mean).not.toBe(json.summary.peerstyle.gramDistance.mean);
  expect(JSON.parse(await fs.readFile(path.join(modelDir, 'manifest.json'), 'utf8')).eval.styleSize).toBe(64);

  // And the render scale: the reconstructions, rendered at twice the size and shrunk, score otherwise.
  const scaledOut = path.join(path.dirname(out), 'render-2');
  const scaled = await evalAndRecord(scaledOut, ['--render-scale', '2']);
  expect(scaled.code).toBe(0);
  const scaledJson = JSON.parse(await fs.readFile(path.join(scaledOut, 'eval.json'), 'utf8')) as EvalJson;
  expect(scaledJson.fidelity.reconstruction.psnrLuma.mean).not.toBe(json.fidelity.reconstruction.psnrLuma.mean);
  expect(JSON.parse(await fs.readFile(path.join(modelDir, 'manifest.json'), 'utf8')).eval.renderScale).toBe(2);
});
