/**
 * The evaluation pipeline end to end on real images, with stylizers defined here (the engine has its
 * own tests): an identity stylizer must score exactly like the content baseline, a colour shift must
 * move the colour figures, and the report files must hold the same figures and a viewable sheet.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { contactSheetSize, SHEET_CELL, SHEET_GAP, SHEET_HEADER } from '../../functions/eval/contact-sheet';
import { loadImage } from '../../functions/eval/rgb-image';
import { METHODS, runEval, selectPairs, type EvalResult, type Stylizer } from '../../functions/eval/run-eval';
import type { EvalJson } from '../../functions/eval/report';
import { writeReport } from '../../functions/eval/write-report';
import { FIXTURES } from './images';

const SIDE = 48; // small, to keep the texture network fast; the metrics need at least 11 px
const contentFiles = ['photo-1.jpg', 'photo-3.jpg'].map((f) => path.join(FIXTURES, f));
const styleFiles = ['painting-1.jpg', 'painting-2.jpg'].map((f) => path.join(FIXTURES, f));

/**
 * Returns the content as it is, at its full 80 × 60 pixels: the pipeline brings it to metric size with
 * the same resize as the content itself, so the two must then be identical.
 */
const identity: Stylizer = async (contentFile) => loadImage(contentFile, 10_000);

/** Adds 40 to the red channel (clipped): a pure colour change that keeps most of the structure. */
const redShift: Stylizer = async (contentFile) => {
  const image = await loadImage(contentFile, SIDE);
  const data = image.data.map((v, i) => (i % 3 === 0 ? Math.min(255, v + 40) : v));
  return { ...image, data };
};

describe('runEval', () => {
  let identityRun: EvalResult;
  beforeAll(async () => {
    identityRun = await runEval({ contentFiles, styleFiles, stylizer: identity, maxSide: SIDE });
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
    expect((await identity(contentFiles[0], styleFiles[0])).width).toBe(80); // larger than metric size
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

  it('moves the colour figures, not the edges much, for a colour-shifting stylizer', async () => {
    const run = await runEval({ contentFiles, styleFiles, stylizer: redShift, maxSide: SIDE });
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
    expect({ width: meta.width, height: meta.height }).toEqual(contactSheetSize(4));
    expect(meta.width).toBe(4 * SHEET_CELL + 5 * SHEET_GAP);

    // The first row's content cell shows the photo, not the white background.
    const cell = await sharp(files.contactSheet)
      .extract({ left: SHEET_GAP, top: SHEET_HEADER, width: SHEET_CELL, height: SHEET_CELL })
      .stats();
    expect(cell.channels[0].mean).toBeLessThan(240);
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
