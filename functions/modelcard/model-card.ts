/**
 * Writes MODEL_CARD.md into a model package: what the model is, which images it learnt from and under
 * which licences (with the attribution each image needs), how long it trained, its loss curves
 * (loss-curves.png beside the card), its evaluation figures when given, and its known limits. A package
 * travels without its training run, so the card gathers what a user of the package would otherwise
 * have to dig out of the run folder and the dataset.
 *
 * Sources: the package's manifest.json; the run folder's metrics.jsonl and model/weights.json (steps and
 * training seconds, preferred over the manifest's copy when present); a dataset manifest (a JSON array
 * of `{ file, licence, source, debianPackage }`, by default the repository's datasets/sample); and an
 * eval.json written by `peerstyle eval`. The card and the plot are extra files: the package manifest
 * does not list them, so adding them leaves the package's checksums valid.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { readManifest, type ModelManifest } from '../../trainer/export/package-format';
import { LOSS_SERIES, parseMetrics, plotLossCurves, type MetricRecord } from './loss-plot';
import { relationSymbol } from '../eval/targets';

/** The card's file name inside the package. */
export const MODEL_CARD_FILE = 'MODEL_CARD.md';
/** The loss plot's file name inside the package. */
export const LOSS_PLOT_FILE = 'loss-curves.png';

/** The bundled sample dataset's manifest, the default source of the data section. */
export const DEFAULT_DATASET_MANIFEST = path.join(__dirname, '..', '..', 'datasets', 'sample', 'manifest.json');

/** Options for {@link writeModelCard}. */
export interface ModelCardOptions {
  /** The model package folder the card is written into. */
  packageDir: string;
  /** The training run folder (holds metrics.jsonl and model/weights.json). */
  runDir: string;
  /**
   * eval.json files from `peerstyle eval`, each with the name of the images it measured ("held-out
   * split", "training images"; '' for a single unnamed one); without any the card says so.
   */
  evaluations?: readonly { label: string; file: string }[];
  /**
   * The dataset manifests listing each image and its licence. An entry whose `split` is "heldout" was
   * never trained on (it picked checkpoints and gave the figures) and is listed apart.
   * @default [datasets/sample/manifest.json]
   */
  datasetManifests?: readonly string[];
  /** Known limits, one sentence each; without them the section holds a placeholder to fill in. */
  knownLimits?: readonly string[];
}

/** What was written. */
export interface ModelCardResult {
  cardPath: string;
  plotPath: string;
  markdown: string;
}

/** One training image as the dataset manifest describes it. */
interface DatasetEntry {
  file: string;
  licence: string;
  source?: string;
  debianPackage?: string;
  split?: string;
}

/** One dataset manifest, read. */
interface DatasetManifest {
  file: string;
  entries: DatasetEntry[];
}

/** One evaluation document with the name of the images it was measured on. */
export interface LabelledEvaluation {
  label: string;
  evaluation: unknown;
}

/** The fields of model/weights.json the card uses. */
interface WeightsSummary {
  iteration?: number;
  trainSeconds?: number;
  dataset?: string;
}

/** Writes MODEL_CARD.md and loss-curves.png into the package; returns their paths and the card's text. */
export async function writeModelCard(options: ModelCardOptions): Promise<ModelCardResult> {
  const manifest = await readManifest(options.packageDir);
  const metricsFile = path.join(options.runDir, 'metrics.jsonl');
  const records = parseMetrics(await readText(metricsFile, 'the run’s metrics'));
  const plotPath = path.join(options.packageDir, LOSS_PLOT_FILE);
  await plotLossCurves(metricsFile, plotPath, { title: `${manifest.name} ${manifest.version}: training losses` });
  const weights = await readWeightsSummary(options.runDir);
  const manifestFiles = options.datasetManifests?.length ? options.datasetManifests : [DEFAULT_DATASET_MANIFEST];
  const datasets = await Promise.all(manifestFiles.map(async (file) => ({ file, entries: await readDataset(file) })));
  const evaluations = await Promise.all(
    (options.evaluations ?? []).map(async ({ label, file }) => ({
      label,
      evaluation: JSON.parse(await readText(file, 'the evaluation')) as unknown,
    })),
  );
  const markdown = formatModelCard({
    manifest,
    records,
    weights,
    datasets,
    evaluations,
    knownLimits: options.knownLimits ?? [],
  });
  const cardPath = path.join(options.packageDir, MODEL_CARD_FILE);
  await fs.writeFile(cardPath, markdown);
  return { cardPath, plotPath, markdown };
}

/** Everything the card is built from, already read. */
export interface CardInputs {
  manifest: ModelManifest;
  records: readonly MetricRecord[];
  weights?: WeightsSummary;
  datasets: readonly DatasetManifest[];
  evaluations: readonly LabelledEvaluation[];
  knownLimits: readonly string[];
}

/** The card's markdown. */
export function formatModelCard(inputs: CardInputs): string {
  const { manifest: m, records, weights } = inputs;
  const steps = weights?.iteration ?? m.training?.iterations;
  const seconds = weights?.trainSeconds ?? m.training?.trainSeconds;
  const lines: string[] = [
    `# Model card: ${m.name} ${m.version}`,
    '',
    `TSPR (Two-Stage Peer-Regularized Feature Recombination) style transfer, preset \`${m.preset}\` ` +
      `(ngf ${m.config.ngf}, K = ${m.config.knn} nearest peers), exported ${m.createdAt} as ONNX opset ${m.opset}.`,
    '',
    '## Training data and licences',
    '',
    ...dataSection(inputs.datasets),
    '## Training',
    '',
    `- Steps: ${steps === undefined ? 'unknown' : steps}`,
    ...averagedLine(m.training?.averagedIterations),
    `- Training time: ${seconds === undefined ? 'unknown' : formatDuration(seconds)}` +
      (weights?.trainSeconds !== undefined ? ' (from the run’s weights.json)' : ''),
    ...trainingFromMetrics(records),
    '',
    '## Loss curves',
    '',
    `![Training losses, log scale](${LOSS_PLOT_FILE})`,
    '',
    ...finalLosses(records),
    '## Evaluation',
    '',
    ...evaluationsSection(inputs.evaluations),
    '## Known limits',
    '',
    ...(inputs.knownLimits.length > 0
      ? inputs.knownLimits.map((l) => `- ${l}`)
      : ['- _None recorded yet. Add them with `peerstyle model card … --limit "<sentence>"`._']),
    '',
  ];
  return lines.join('\n');
}

function dataSection(datasets: readonly DatasetManifest[]): string[] {
  const all = datasets.flatMap((d) => d.entries.map((e) => ({ ...e, file: `${manifestName(d.file)}/${e.file}` })));
  const trained = all.filter((e) => e.split !== 'heldout');
  const heldOut = all.filter((e) => e.split === 'heldout');
  const listed = datasets.map((d) => `\`${manifestName(d.file)}/${path.basename(d.file)}\``).join(' and ');
  return [
    `Trained on ${trained.length} images (${folderCounts(trained)}), listed in ${listed}.`,
    ...(heldOut.length
      ? [
          '',
          `Held out: ${heldOut.length} images (${folderCounts(heldOut)}), whole photos and whole style images never ` +
            'trained on; checkpoints were chosen and the figures below measured on them.',
        ]
      : []),
    '',
    ...licenceTables('Training images', trained),
    ...(heldOut.length ? licenceTables('Held-out images', heldOut) : []),
  ];
}

/** "datasets/wide/manifest.json" → "wide": the name a manifest's images are listed under. */
function manifestName(file: string): string {
  return path.basename(path.dirname(file));
}

/** "12 in wide/content/, 3 in sample/style/": counts per folder, the file name dropped. */
function folderCounts(entries: readonly DatasetEntry[]): string {
  const folders = new Map<string, number>();
  for (const e of entries) {
    const parts = e.file.split('/');
    // The split folder ("train/", "heldout/") says nothing the sentence does not; the role folder does.
    const folder = parts.filter((p, i) => i < parts.length - 1 && p !== 'train' && p !== 'heldout').join('/');
    folders.set(folder || '.', (folders.get(folder || '.') ?? 0) + 1);
  }
  return [...folders.entries()].map(([f, n]) => `${n} in ${f}/`).join(', ');
}

function licenceTables(title: string, entries: readonly DatasetEntry[]): string[] {
  const byLicence = new Map<string, DatasetEntry[]>();
  for (const e of entries) byLicence.set(e.licence, [...(byLicence.get(e.licence) ?? []), e]);
  const licences = [...byLicence.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  return [
    `### ${title}`,
    '',
    '| licence | images |',
    '|---|---:|',
    ...licences.map(([licence, group]) => `| ${licence} | ${group.length} |`),
    '',
    ...licences.flatMap(([licence, group]) => [
      `**${licence}**`,
      '',
      ...group.map(
        (e) =>
          `- \`${e.file}\`` +
          (e.source ? ` from ${e.source}` : '') +
          (e.debianPackage ? ` (Debian package ${e.debianPackage})` : ''),
      ),
      '',
    ]),
  ];
}

function trainingFromMetrics(records: readonly MetricRecord[]): string[] {
  const first = records[0];
  const last = records.at(-1);
  if (first === undefined || last === undefined) return ['- Logged steps: none'];
  const out = [`- Logged steps: ${records.length} (steps ${first.step} to ${last.step}, one record per step)`];
  if (first.at && last.at) {
    const span = (Date.parse(last.at) - Date.parse(first.at)) / 1000;
    if (Number.isFinite(span)) out.push(`- Wall time between the first and last log: ${formatDuration(span)}`);
  }
  const speeds = records.map((r) => r.values.it_per_s).filter((v): v is number => v !== undefined);
  const sorted = [...speeds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median !== undefined) out.push(`- Median speed: ${median.toFixed(3)} it/s`);
  return out;
}

function finalLosses(records: readonly MetricRecord[]): string[] {
  const first = records[0];
  const last = records.at(-1);
  if (first === undefined || last === undefined) return [];
  const rows = LOSS_SERIES.flatMap((s) => {
    const [from, to] = [first.values[s.key], last.values[s.key]];
    return to === undefined ? [] : [`| ${s.key} | ${from === undefined ? '–' : format(from)} | ${format(to)} |`];
  });
  if (rows.length === 0) return [];
  return [`| loss | step ${first.step} | step ${last.step} |`, '|---|---:|---:|', ...rows, ''];
}

/**
 * The evaluation table: methods × metrics (mean ± std) for a `peerstyle eval` document, or one row per
 * numeric value for any other JSON object, so that figures from elsewhere still reach the card.
 */
function evaluationsSection(evaluations: readonly LabelledEvaluation[]): string[] {
  if (evaluations.length === 0) {
    return ['Not measured. Run `peerstyle eval` and pass its eval.json with `--eval`.', ''];
  }
  const [only] = evaluations;
  if (evaluations.length === 1 && only?.label === '') return evaluationSection(only.evaluation);
  return evaluations.flatMap(({ label, evaluation }) => [
    `### ${label || 'Evaluation'}`,
    '',
    ...evaluationSection(evaluation),
  ]);
}

function evaluationSection(evaluation: unknown): string[] {
  const doc = evaluation as {
    pairs?: number;
    summary?: Record<string, Record<string, { mean: number; std: number }>>;
    metrics?: { key: string; label: string }[];
    targets?: { metric: string; bound: string; value: number; limit: number; direction: string; met: boolean }[];
    fidelity?: unknown;
    identification?: Record<string, JsonSummary>;
  };
  if (doc.summary && typeof doc.summary === 'object') {
    const methods = Object.keys(doc.summary);
    const keys = doc.metrics?.map((x) => x.key) ?? Object.keys(Object.values(doc.summary)[0] ?? {});
    const label = (k: string): string => doc.metrics?.find((x) => x.key === k)?.label ?? k;
    return [
      ...(doc.pairs !== undefined ? [`Mean ± standard deviation over ${doc.pairs} content × style pairs.`, ''] : []),
      `| method | ${keys.map(label).join(' | ')} |`,
      `|---|${keys.map(() => '---:').join('|')}|`,
      ...methods.map((method) => {
        const cells = keys.map((k) => {
          const v = doc.summary?.[method]?.[k];
          return v ? `${format(v.mean)} ± ${format(v.std)}` : '–';
        });
        return `| ${method} | ${cells.join(' | ')} |`;
      }),
      '',
      ...targetLines(doc.targets, label),
      ...fidelityLines(doc.fidelity),
      ...identificationLines(doc.identification),
    ];
  }
  const rows = numericLeaves(evaluation, '');
  if (rows.length === 0) return ['The evaluation file holds no figures.', ''];
  return ['| figure | value |', '|---|---:|', ...rows.map(([k, v]) => `| ${k} | ${format(v)} |`), ''];
}

/** The targets `peerstyle eval` checked (functions/eval/targets.ts), one line each. */
function targetLines(
  targets:
    { metric: string; bound: string; value: number; limit: number; direction: string; met: boolean }[] | undefined,
  label: (key: string) => string,
): string[] {
  if (!Array.isArray(targets) || targets.length === 0) return [];
  return [
    `Targets: ${targets.filter((t) => t.met).length} of ${targets.length} met.`,
    '',
    ...targets.map((t) => {
      // A close call needs more digits than the table's four, or "12.27 < 12.27" reads as an error.
      const digits = format(t.value) === format(t.limit) ? 6 : 4;
      const show = (v: number) => (digits === 4 ? format(v) : Number(v.toPrecision(digits)).toString());
      return (
        `- ${label(t.metric)} ${show(t.value)} ${relationSymbol(t.direction)} ${show(t.limit)} ` +
        `(${t.bound}): ${t.met ? 'met' : 'not met'}`
      );
    }),
    '',
  ];
}

/** A mean ± std as eval.json holds it; NaN became null there when nothing was averaged. */
interface JsonSummary {
  mean: number | null;
  std: number | null;
  n?: number;
}

/**
 * The rendering-fidelity figures of `peerstyle eval` (functions/eval/fidelity.ts): the strength-0
 * reconstruction's PSNR and the grid scores, next to the content baseline, and their targets.
 */
function fidelityLines(fidelity: unknown): string[] {
  const f = fidelity as
    | {
        reconstruction?: { contents?: number; psnrLuma?: JsonSummary; psnrRgb?: JsonSummary; gridScore?: JsonSummary };
        gridScore?: { reinhard?: JsonSummary; peerstyle?: JsonSummary };
        targets?: {
          figure: string;
          of: string;
          value: number | null;
          limit: number;
          direction: string;
          met: boolean;
        }[];
      }
    | undefined;
  if (!f?.reconstruction || !f.gridScore) return [];
  const cell = (s: JsonSummary | undefined): string =>
    typeof s?.mean === 'number' && typeof s.std === 'number' ? `${format(s.mean)} ± ${format(s.std)}` : '–';
  const r = f.reconstruction;
  const names: Record<string, string> = { psnrLuma: 'PSNR luma (dB)', gridScore: 'grid score' };
  return [
    `Rendering fidelity: the reconstruction at strength 0 (${r.contents ?? '?'} content images, each once) and ` +
      'the grid score (checkerboard at the 2- and 4-pixel periods, relative to the content: 1 = none added).',
    '',
    '| figure | content | reinhard | peerstyle | reconstruction |',
    '|---|---:|---:|---:|---:|',
    `| PSNR luma (dB) ↑ | ∞ | – | – | ${cell(r.psnrLuma)} |`,
    `| PSNR RGB (dB) ↑ | ∞ | – | – | ${cell(r.psnrRgb)} |`,
    `| grid score ↓ | 1 | ${cell(f.gridScore.reinhard)} | ${cell(f.gridScore.peerstyle)} | ${cell(r.gridScore)} |`,
    '',
    ...(Array.isArray(f.targets)
      ? f.targets.map(
          (t) =>
            `- ${names[t.figure] ?? t.figure} of the ${t.of === 'reconstruction' ? 'reconstructions' : 'Peerstyle outputs'} ` +
            `${typeof t.value === 'number' ? format(t.value) : '–'} ${t.direction === 'atLeast' ? '≥' : '≤'} ${t.limit}: ` +
            `${t.met ? 'met' : 'not met'}`,
        )
      : []),
    '',
  ];
}

/** Style identification (functions/eval/style-identification.ts), one figure per method. */
function identificationLines(identification: Record<string, JsonSummary> | undefined): string[] {
  if (!identification || typeof identification !== 'object') return [];
  const methods = Object.keys(identification);
  const cell = (s: JsonSummary | undefined): string =>
    typeof s?.mean === 'number' && typeof s.std === 'number' ? `${format(s.mean)} ± ${format(s.std)}` : '–';
  return [
    'Style identification: the share of the run’s other style images farther by texture (luma only, ' +
      'colour and contrast removed, three pyramid levels) from each image than its own style; 1 = its own ' +
      'style is the nearest, about 0.5 = its texture does not tell which style it came from.',
    '',
    `| ${methods.join(' | ')} |`,
    `|${methods.map(() => '---:').join('|')}|`,
    `| ${methods.map((m) => cell(identification[m])).join(' | ')} |`,
    '',
  ];
}

function numericLeaves(value: unknown, prefix: string): [string, number][] {
  if (typeof value === 'number') return [[prefix || 'value', value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    numericLeaves(v, prefix ? `${prefix}.${k}` : k),
  );
}

/** Four significant digits, without exponent noise for ordinary magnitudes. */
function format(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

/** The weights' origin when they are the mean of several checkpoints (`peerstyle export` with several). */
function averagedLine(iterations: readonly number[] | undefined): string[] {
  if (!iterations || iterations.length < 2) return [];
  const list = iterations.map((n) => n.toLocaleString('en-US')).join(', ');
  return [`- Weights: the mean of ${iterations.length} checkpoints of the run, at iterations ${list}`];
}

/** 5400 → "1 h 30 min"; short spans keep their seconds. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${min} min`;
  if (min > 0) return `${min} min ${s % 60} s`;
  return `${s} s`;
}

async function readWeightsSummary(runDir: string): Promise<WeightsSummary | undefined> {
  for (const file of [path.join(runDir, 'model', 'weights.json'), path.join(runDir, 'weights.json')]) {
    try {
      const meta = JSON.parse(await fs.readFile(file, 'utf8')) as WeightsSummary;
      return { iteration: meta.iteration, trainSeconds: meta.trainSeconds, dataset: meta.dataset };
    } catch {
      // Not there (a run stopped before its final save): the manifest's copy is used instead.
    }
  }
  return undefined;
}

async function readDataset(file: string): Promise<DatasetEntry[]> {
  const parsed = JSON.parse(await readText(file, 'the dataset manifest')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${file} should hold a JSON array of images.`);
  return parsed.map((e: Partial<DatasetEntry>, i) => {
    if (typeof e.file !== 'string') throw new Error(`${file}: entry ${i + 1} has no "file".`);
    return {
      file: e.file,
      licence: e.licence ?? 'unknown',
      source: e.source,
      debianPackage: e.debianPackage,
      split: typeof e.split === 'string' ? e.split : undefined,
    };
  });
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(`Cannot read ${what}: ${file} is missing.`);
  }
}
