/**
 * The loss plot: metrics parsing (the last record of a step wins, malformed lines are reported by
 * number) and the rendered PNG (its size, and that each loss's colour is actually drawn).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

import {
  LOSS_SERIES,
  lossCurvesSvg,
  niceTicks,
  parseMetrics,
  plotLossCurves,
} from '../../../functions/modelcard/loss-plot';
import { metricsLine, resumedMetrics } from './fixtures';
import { at } from '../../support/checked';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-plot-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pixels within a small distance of the colour `hex`. */
function countColour(data: Buffer, channels: number, hex: string): number {
  const channel = (offset: number) => parseInt(hex.slice(offset, offset + 2), 16);
  const [r, g, b] = [channel(1), channel(3), channel(5)];
  let n = 0;
  for (let i = 0; i < data.length; i += channels) {
    if (Math.abs(at(data, i) - r) + Math.abs(at(data, i + 1) - g) + Math.abs(at(data, i + 2) - b) < 24) n++;
  }
  return n;
}

test('a step logged twice keeps its last record, and steps come out in order', () => {
  const records = parseMetrics(resumedMetrics());
  expect(records.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, i) => 20 * (i + 1)));
  const at300 = records.find((r) => r.step === 300)!;
  // The resumed run logged step 300 with losses ×10; the first run's value would be ten times smaller.
  expect(at300.values.loss_idt).toBeCloseTo(20 * Math.exp(-1.5) + 0.01, 6);
  const at280 = records.find((r) => r.step === 280)!;
  expect(at280.values.loss_idt).toBeCloseTo(2 * Math.exp(-1.4) + 0.01, 6);
});

test('a malformed line is reported with its line number', () => {
  expect(() => parseMetrics(`${metricsLine(20)}\n{"step": 40,\n`)).toThrow(/line 2/);
  expect(() => parseMetrics(`${metricsLine(20)}\n{"loss_idt": 1}\n`)).toThrow(/line 2 has no numeric "step"/);
});

test('the PNG has the requested size and shows every loss in its colour', async () => {
  const metrics = path.join(dir, 'metrics.jsonl');
  writeFileSync(metrics, resumedMetrics());
  const out = path.join(dir, 'loss.png');
  const summary = await plotLossCurves(metrics, out, { width: 800, height: 450 });
  expect(summary).toMatchObject({ width: 800, height: 450, steps: 20 });
  for (const { key } of LOSS_SERIES) expect(summary.points[key]).toBe(20);

  const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([800, 450]);
  // Not blank: mostly white background, but each series' colour covers a visible line and legend key.
  const white = countColour(data, info.channels, '#ffffff');
  expect(white).toBeGreaterThan(0.5 * info.width * info.height);
  expect(white).toBeLessThan(0.99 * info.width * info.height);
  for (const { colour } of LOSS_SERIES) expect(countColour(data, info.channels, colour)).toBeGreaterThan(60);
});

test('the default size is 960×540, and losses absent from the log are left out of the legend', async () => {
  const metrics = path.join(dir, 'partial.jsonl');
  writeFileSync(
    metrics,
    [20, 40, 60].map((step) => JSON.stringify({ step, loss_idt: 1 / step, loss_d: 0.5, loss_adv_g: 0 })).join('\n'),
  );
  const out = path.join(dir, 'partial.png');
  const summary = await plotLossCurves(metrics, out);
  expect([summary.width, summary.height]).toEqual([960, 540]);
  // loss_adv_g is 0 throughout: a log axis cannot place it, so it has no points and no legend entry.
  expect(summary.points).toEqual({ loss_idt: 3, loss_d: 3 });
  const svg = lossCurvesSvg(parseMetrics(require('node:fs').readFileSync(metrics, 'utf8') as string));
  expect(svg).toContain('>loss_idt<');
  expect(svg).not.toContain('>loss_adv_g<');
});

test('a log with no loss values is refused rather than drawn empty', async () => {
  const metrics = path.join(dir, 'empty.jsonl');
  writeFileSync(metrics, `${JSON.stringify({ step: 1, lr: 0.1 })}\n`);
  await expect(plotLossCurves(metrics, path.join(dir, 'empty.png'))).rejects.toThrow(/nothing to plot/);
});

test('step ticks fall on round numbers inside the range', () => {
  // (400 − 20) / 6 ≈ 63 per tick rounds up to a spacing of 100.
  expect(niceTicks(20, 400, 6)).toEqual([100, 200, 300, 400]);
  expect(niceTicks(20, 400, 10)).toEqual([50, 100, 150, 200, 250, 300, 350, 400]);
  expect(niceTicks(0, 12_000, 6)).toEqual([0, 2000, 4000, 6000, 8000, 10_000, 12_000]);
});
