/**
 * The loss curves of a training run as a PNG: reads the run's metrics.jsonl (one JSON object per
 * logged step, trainer/train.ts), keeps the last record of each step (a resumed run appends the steps
 * it repeats), draws one line per loss as an SVG written here by hand (axes, ticks, a legend; no chart
 * library), and renders it with sharp. The y axis is logarithmic because the losses span decades and
 * the adversarial ones sit near 1 while the reconstruction ones fall by orders of magnitude;
 * non-positive values cannot be placed on it and are left out of their line.
 */
import { promises as fs } from 'node:fs';

import sharp from 'sharp';

/** The losses plotted, in legend order, with their colours. */
export const LOSS_SERIES = [
  { key: 'loss_idt', colour: '#1f77b4' },
  { key: 'loss_idt_aux', colour: '#ff7f0e' },
  { key: 'loss_adv_g', colour: '#2ca02c' },
  { key: 'loss_d', colour: '#d62728' },
  { key: 'loss_z_cont', colour: '#9467bd' },
  { key: 'loss_transf', colour: '#8c564b' },
] as const;

export type LossKey = (typeof LOSS_SERIES)[number]['key'];

/** One metrics line: the step and whatever numbers were logged with it. */
export interface MetricRecord {
  step: number;
  values: Record<string, number>;
  /** The `at` timestamp, when the line has one. */
  at?: string;
}

/** Options for {@link plotLossCurves}. */
export interface PlotOptions {
  /** @default 960 */
  width?: number;
  /** @default 540 */
  height?: number;
  /** @default 'Training losses' */
  title?: string;
}

/** What was drawn. */
export interface PlotSummary {
  width: number;
  height: number;
  /** Distinct steps after deduplication. */
  steps: number;
  /** Points drawn per loss (losses absent from every record are left out of the plot and the legend). */
  points: Partial<Record<LossKey, number>>;
}

/**
 * Parses metrics.jsonl text into one record per step, the last one logged for that step winning, in
 * step order. Blank lines are skipped; a line that is not a JSON object with a numeric `step` is an
 * error naming its line number, since a silently skipped line would bend the curve.
 */
export function parseMetrics(text: string): MetricRecord[] {
  const byStep = new Map<number, MetricRecord>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new Error(`metrics line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || typeof (parsed as { step?: unknown }).step !== 'number') {
      throw new Error(`metrics line ${i + 1} has no numeric "step".`);
    }
    const record = parsed as Record<string, unknown>;
    const values: Record<string, number> = {};
    for (const [key, value] of Object.entries(record)) {
      if (key !== 'step' && typeof value === 'number' && Number.isFinite(value)) values[key] = value;
    }
    const step = record.step as number;
    byStep.set(step, { step, values, ...(typeof record.at === 'string' ? { at: record.at } : {}) });
  });
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** The chart as SVG text. */
export function lossCurvesSvg(records: readonly MetricRecord[], options: PlotOptions = {}): string {
  const width = options.width ?? 960;
  const height = options.height ?? 540;
  const title = options.title ?? 'Training losses';
  const margin = { left: 78, right: 190, top: 44, bottom: 58 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const series = LOSS_SERIES.map((s) => ({
    ...s,
    points: records.flatMap((r) => {
      const value = r.values[s.key];
      return value !== undefined && value > 0 ? [{ step: r.step, value }] : [];
    }),
  })).filter((s) => s.points.length > 0);

  const steps = records.map((r) => r.step);
  const xMin = steps.length ? Math.min(...steps) : 0;
  const xMax = steps.length ? Math.max(...steps) : 1;
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  // Whole decades around the data, so that the ticks fall on powers of ten.
  let yLo = values.length ? Math.floor(Math.log10(Math.min(...values))) : -1;
  let yHi = values.length ? Math.ceil(Math.log10(Math.max(...values))) : 1;
  if (yHi === yLo) {
    yLo -= 1;
    yHi += 1;
  }
  const x = (step: number): number =>
    margin.left + (xMax === xMin ? plotW / 2 : ((step - xMin) / (xMax - xMin)) * plotW);
  const y = (value: number): number => margin.top + ((yHi - Math.log10(value)) / (yHi - yLo)) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${f(margin.left + plotW / 2)}" y="26" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#222">${escapeXml(title)}</text>`,
  ];
  // y grid and ticks: one per decade, labelled 10^k.
  for (let k = yLo; k <= yHi; k++) {
    const py = f(y(10 ** k));
    parts.push(
      `<line x1="${margin.left}" y1="${py}" x2="${margin.left + plotW}" y2="${py}" stroke="#e3e3e3" stroke-width="1"/>`,
      `<line x1="${margin.left - 6}" y1="${py}" x2="${margin.left}" y2="${py}" stroke="#444" stroke-width="1"/>`,
      `<text x="${margin.left - 10}" y="${py}" font-family="sans-serif" font-size="13" text-anchor="end" dominant-baseline="middle" fill="#333">${decadeLabel(k)}</text>`,
    );
  }
  // x ticks at round step counts.
  for (const step of niceTicks(xMin, xMax, 6)) {
    const px = f(x(step));
    const base = margin.top + plotH;
    parts.push(
      `<line x1="${px}" y1="${base}" x2="${px}" y2="${base + 6}" stroke="#444" stroke-width="1"/>`,
      `<text x="${px}" y="${base + 22}" font-family="sans-serif" font-size="13" text-anchor="middle" fill="#333">${step}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#444" stroke-width="1.5"/>`,
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#444" stroke-width="1.5"/>`,
    `<text x="${f(margin.left + plotW / 2)}" y="${height - 14}" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#222">step</text>`,
    `<text x="18" y="${f(margin.top + plotH / 2)}" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#222" transform="rotate(-90 18 ${f(margin.top + plotH / 2)})">loss (log scale)</text>`,
  );
  for (const s of series) {
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(x(p.step))},${f(y(p.value))}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round"/>`);
    const [only] = s.points;
    if (s.points.length === 1 && only !== undefined) {
      // A single record draws no segment; a dot keeps it visible.
      parts.push(`<circle cx="${f(x(only.step))}" cy="${f(y(only.value))}" r="3" fill="${s.colour}"/>`);
    }
  }
  const legendX = margin.left + plotW + 20;
  series.forEach((s, i) => {
    const ly = margin.top + 12 + i * 24;
    parts.push(
      `<line x1="${legendX}" y1="${ly}" x2="${legendX + 26}" y2="${ly}" stroke="${s.colour}" stroke-width="3"/>`,
      `<text x="${legendX + 34}" y="${ly}" font-family="sans-serif" font-size="13" dominant-baseline="middle" fill="#222">${s.key}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * Reads `metricsJsonl` (a metrics.jsonl file), draws the loss curves and writes them as PNG to `outPng`.
 *
 * @throws when the file is missing, a line is malformed, or it holds no loss values to draw
 */
export async function plotLossCurves(
  metricsJsonl: string,
  outPng: string,
  options: PlotOptions = {},
): Promise<PlotSummary> {
  const records = parseMetrics(await fs.readFile(metricsJsonl, 'utf8'));
  const points: PlotSummary['points'] = {};
  for (const { key } of LOSS_SERIES) {
    const n = records.filter((r) => (r.values[key] ?? 0) > 0).length;
    if (n > 0) points[key] = n;
  }
  if (Object.keys(points).length === 0) {
    throw new Error(
      `${metricsJsonl} holds no positive values of ${LOSS_SERIES.map((s) => s.key).join(', ')}; nothing to plot.`,
    );
  }
  const svg = lossCurvesSvg(records, options);
  await sharp(Buffer.from(svg)).png().toFile(outPng);
  const meta = await sharp(outPng).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0, steps: records.length, points };
}

/** Step ticks at 1, 2 or 5 × 10^k spacing, about `count` of them, inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const spacing = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / spacing) * spacing; t <= hi + 1e-9; t += spacing) ticks.push(Math.round(t));
  return ticks;
}

/** 10^k in plain digits where that is short, otherwise as 1e±k. */
function decadeLabel(k: number): string {
  if (k >= 0 && k <= 4) return String(10 ** k);
  if (k < 0 && k >= -3) return (10 ** k).toFixed(-k);
  return `1e${k}`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
