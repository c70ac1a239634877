/**
 * The evaluation pipeline end to end on real images, with stylizers defined here (the engine has its
 * own tests): an identity stylizer must score exactly like the content baseline, a colour shift must
 * move the colour figures, a stylizer that paints a checkerboard must fail the grid score, each content
 * must be reconstructed once at strength 0, and the report files must hold the same figures and a
 * viewable sheet.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  contactSheetSize,
  fittedSize,
  SHEET_CELL,
  SHEET_GAP,
  SHEET_HEADER,
} from '../../../functions/eval/contact-sheet';
import { PSNR_CAP_DB } from '../../../functions/eval/psnr';
import { loadImage, loadImageAt, resizeRgb } from '../../../functions/eval/rgb-image';
import {
  METHODS,
  runEval,
  selectPairs,
  type EvalResult,
  type Stylizer,
  type StylizeOptions,
} from '../../../functions/eval/run-eval';
import type { EvalJson } from '../../../functions/eval/report';
import { writeReport } from '../../../functions/eval/write-report';
import { at } from '../../support/checked';
import { FIXTURES } from './images';

const SIDE = 48; // small, to keep the texture network fast; the metrics need at least 11 px
const contentFiles = ['photo-1.jpg', 'photo-3.jpg'].map((f) => path.join(FIXTURES, f));
const styleFiles = ['painting-1.jpg', 'painting-2.jpg'].map((f) => path.join(FIXTURES, f));

/** Returns the content as it is, at the size asked for, and remembers how it was asked. */
const calls: { content: string; options?: StylizeOptions }[] = [];
const identity: Stylizer = async (contentFile, _styleFile, options) => {
  calls.push({ content: path.basename(contentFile), options });
  return loadImageAt(contentFile, options?.size);
};

/** Returns the content at its full 80 × 60 pixels, whatever size was asked: the pipeline resizes it. */
const fullSize: Stylizer = async (contentFile) => loadImage(contentFile, 10_000);

/** The content with a ±3-level 2-pixel checkerboard, at strength > 0 only. */
const checkered: Stylizer = async (contentFile, _styleFile, options) => {
  const image = await loadImageAt(contentFile, options?.size);
  if (options?.strength === 0) return image;
  const data = image.data.map((v, i) => {
    const p = Math.floor(i / 3);
    const sign = ((p % image.width) + Math.floor(p / image.width)) % 2 ? 3 : -3;
    return Math.min(255, Math.max(0, v + sign));
  });
  return { ...image, data };
};

/** Adds 40 to the red channel (clipped): a pure colour change that keeps most of the structure. */
const redShift: Stylizer = async (contentFile) => {
  const image = await loadImage(contentFile, SIDE);
  const data = image.data.map((v, i) => (i % 3 === 0 ? Math.min(255, v + 40) : v));
  return { ...image, data };
};

describe('runEval', () => {
  let identityRun: EvalResult;
  beforeAll(async () => {
    identityRun = await runEval({ contentFiles, styleFiles, stylizer: identity, size: SIDE });
  });

  it('measures every pair with every method', () => {
    expect(identityRun.pairs.map((p) => `${p.content}×${p.style}`)).toEqual([
      'photo-1.jpg×painting-1.jpg',
      'photo-1.jpg×painting-2.jpg',
      'photo-3.jpg×painting-1.jpg',
      'photo-3.jpg×painting-2.jpg',
    ]);
    for (const pair of identityRun.pairs) expect(Object.keys(pair.metrics)).toEqual([...METHODS]);
  });

  it('scores an identity stylizer exactly like the content baseline', async () => {
    expect(identityRun.summary.peerstyle).toEqual(identityRun.summary.content);
    expect(identityRun.summary.content.ssimLuma).toEqual({ mean: 1, std: 0 });
    expect(identityRun.summary.content.ssimEdges).toEqual({ mean: 1, std: 0 });
  });

  it('orders the baselines as they must be ordered', () => {
    const { content, style, reinhard } = identityRun.summary;
    // The style image keeps no content; Reinhard keeps most of it.
    expect(style.ssimLuma.mean).toBeLessThan(reinhard.ssimLuma.mean);
    expect(reinhard.ssimLuma.mean).toBeLessThan(1);
    // Reinhard moves the colours toward the style's; the unchanged content does not.
    expect(reinhard.colourSwd.mean).toBeLessThan(content.colourSwd.mean);
    expect(style.gramDistance.mean).toBeLessThan(content.gramDistance.mean);
  });

  it('asks for each content once at strength 0 and for every pair at the scoring size', () => {
    const reconstructionCalls = calls.filter((c) => c.options?.strength === 0);
    expect(reconstructionCalls.map((c) => c.content)).toEqual(['photo-1.jpg', 'photo-3.jpg']);
    expect(calls).toHaveLength(2 + 4);
    for (const c of calls) expect(c.options?.size).toBe(SIDE);
    expect(identityRun.reconstructions.map((r) => [r.content, r.style])).toEqual([
      ['photo-1.jpg', 'painting-1.jpg'],
      ['photo-3.jpg', 'painting-1.jpg'],
    ]);
  });

  it('gives an exact reconstruction the capped PSNR, and outputs without a grid a score of 1', () => {
    const { fidelity } = identityRun;
    expect(fidelity.reconstruction.contents).toBe(2);
    expect(fidelity.reconstruction.psnrLuma).toEqual({ mean: PSNR_CAP_DB, std: 0, n: 2 });
    expect(fidelity.reconstruction.psnrRgb).toEqual({ mean: PSNR_CAP_DB, std: 0, n: 2 });
    expect(fidelity.reconstruction.gridScore).toEqual({ mean: 1, std: 0, n: 2 });
    expect(fidelity.gridScore.peerstyle).toEqual({ mean: 1, std: 0, n: 4 });
    // Reinhard only recolours: about 1 (the sanity check the report shows).
    expect(fidelity.gridScore.reinhard.mean).toBeGreaterThan(0.5);
    expect(fidelity.gridScore.reinhard.mean).toBeLessThan(2);
    expect(fidelity.targets.map((t) => [t.figure, t.met])).toEqual([
      ['psnrLuma', true],
      ['gridScore', true],
    ]);
    expect(fidelity.notes).toEqual([]);
  });

  it('fails the grid target for a stylizer that paints a checkerboard', async () => {
    const run = await runEval({ contentFiles, styleFiles: styleFiles.slice(0, 1), stylizer: checkered, size: SIDE });
    expect(run.fidelity.gridScore.peerstyle.mean).toBeGreaterThan(10);
    expect(run.fidelity.reconstruction.gridScore.mean).toBe(1);
    expect(run.fidelity.targets[1]).toMatchObject({ figure: 'gridScore', met: false });
    expect(run.pairs[0]?.gridScore.peerstyle).toBeGreaterThan(10);
  });

  it('resizes an output of another size, and says so in the notes', async () => {
    const run = await runEval({
      contentFiles: contentFiles.slice(0, 1),
      styleFiles: styleFiles.slice(0, 1),
      stylizer: fullSize,
      size: SIDE,
    });
    expect(run.summary.peerstyle).toEqual(run.summary.content); // the same resize as the content's
    expect(run.fidelity.notes).toEqual([expect.stringMatching(/^2 output\(s\) came back at another size/)]);
  });

  it('skips the grid score of contents under 32 px, with a note', async () => {
    const run = await runEval({
      contentFiles: contentFiles.slice(0, 1),
      styleFiles: styleFiles.slice(0, 1),
      stylizer: identity,
      size: 24,
    });
    expect(run.fidelity.gridScore.peerstyle).toMatchObject({ n: 0 });
    expect(run.pairs[0]?.gridScore).toEqual({ reinhard: null, peerstyle: null });
    expect(run.fidelity.notes[0]).toMatch(/No grid score for 1 content image\(s\) under 32 px .*photo-1\.jpg/);
    expect(run.fidelity.reconstruction.psnrLuma.n).toBe(1);
  });

  it('identifies the style of an identity output exactly as it does the content baseline', () => {
    for (const pair of identityRun.pairs) expect(pair.identification.peerstyle).toBe(pair.identification.content);
    expect(identityRun.identification.peerstyle).toEqual(identityRun.identification.content);
    expect(identityRun.identification.peerstyle.n).toBe(4);
  });

  it('identifies the style of an output that is the style image itself', async () => {
    const pasted: Stylizer = async (contentFile, styleFile, options) => {
      const content = await loadImageAt(contentFile, options?.size);
      return options?.strength === 0
        ? content
        : resizeRgb(await loadImage(styleFile, SIDE), content.width, content.height);
    };
    const run = await runEval({ contentFiles, styleFiles, stylizer: pasted, size: SIDE });
    expect(run.identification.peerstyle).toEqual(run.identification.style);
    expect(run.identification.peerstyle).toEqual({ mean: 1, std: 0, n: 4 });
  });

  it('moves the colour figures, not the edges much, for a colour-shifting stylizer', async () => {
    const run = await runEval({ contentFiles, styleFiles, stylizer: redShift, size: SIDE });
    const { content, peerstyle } = run.summary;
    expect(peerstyle.colourSwd.mean).not.toBeCloseTo(content.colourSwd.mean, 1);
    expect(peerstyle.ssimLuma.mean).toBeLessThan(1);
    expect(peerstyle.ssimEdges.mean).toBeGreaterThan(0.8);
    expect(run.summary.reinhard).toEqual(identityRun.summary.reinhard); // baselines ignore the stylizer
  });

  it('writes eval.md, eval.json with the same figures, and a contact sheet of the expected size', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-eval-'));
    const files = await writeReport(out, identityRun, '/models/x');

    const json = JSON.parse(await fs.readFile(files.json, 'utf8')) as EvalJson;
    expect(json.summary).toEqual(identityRun.summary);
    expect(json.pairs).toBe(4);
    expect(json.model).toBe('/models/x');

    const md = await fs.readFile(files.markdown, 'utf8');
    for (const method of METHODS) expect(md).toMatch(new RegExp(`^\\| ${method} \\| 1?[0-9.]+ ± `, 'm'));
    const reinhard = identityRun.summary.reinhard.ssimLuma;
    expect(md).toContain(`| reinhard | ${reinhard.mean.toFixed(3)} ± ${reinhard.std.toFixed(3)} |`);

    const meta = await sharp(files.contactSheet).metadata();
    expect(meta.format).toBe('png');
    expect({ width: meta.width, height: meta.height }).toEqual(contactSheetSize(identityRun.sheet));
    expect(meta.width).toBe(4 * SHEET_CELL + 5 * SHEET_GAP);

    // The first row's content cell shows the photo, not the white background.
    const first = fittedSize(at(identityRun.sheet, 0).images.content);
    const crop = await sharp(files.contactSheet)
      .extract({ left: SHEET_GAP + Math.floor((SHEET_CELL - first.width) / 2), top: SHEET_HEADER, ...first })
      .png()
      .toBuffer();
    const cell = await sharp(crop).stats();
    expect(cell.channels[0]?.mean).toBeLessThan(240);
  });
});

describe('selectPairs', () => {
  it('keeps every pair without a limit, in content-major order', () => {
    expect(selectPairs(2, 3, undefined, 1)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
  });

  it('draws a seeded subset of distinct pairs, reproducibly', () => {
    const a = selectPairs(6, 5, 7, 3);
    expect(a).toHaveLength(7);
    expect(new Set(a.map(([c, s]) => `${c},${s}`)).size).toBe(7);
    expect(selectPairs(6, 5, 7, 3)).toEqual(a);
    expect(selectPairs(6, 5, 7, 4)).not.toEqual(a);
    const keys = a.map(([c, s]) => c * 5 + s);
    expect(keys).toEqual([...keys].sort((x, y) => x - y));
  });
});
