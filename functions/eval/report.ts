/**
 * Renders an evaluation as the markdown table people read (printed and written to eval.md) and as the
 * JSON document that model cards and the model manifest take their figures from. Both carry the same
 * numbers; the JSON keeps them unrounded and adds the per-pair values and the metric definitions.
 */
import type { CountedSummary, FidelitySummary, FidelityTarget } from './fidelity';
import { METRICS, type MetricKey } from './pair-metrics';
import { PSNR_CAP_DB } from './psnr';
import { perStyle, type StyleBreakdown } from './per-style';
import { METHODS, type EvalResult } from './run-eval';
import { checkTargets, meansOf, relationSymbol, type TargetCheck } from './targets';

/** Decimals shown per metric: SSIM and Gram distance live in [0, 1], the colour distance in Lab units. */
const DECIMALS: Record<MetricKey, number> = { ssimLuma: 3, ssimEdges: 3, gramDistance: 3, colourSwd: 2 };

/** The evaluation as markdown: a heading, what was evaluated, the table and the metric definitions. */
export function formatMarkdown(result: EvalResult, modelDir?: string): string {
  const header = `| method | ${METRICS.map((m) => m.label).join(' | ')} |`;
  const rule = `|---|${METRICS.map(() => '---:').join('|')}|`;
  const rows = METHODS.map((method) => {
    const cells = METRICS.map(({ key }) => {
      const { mean, std } = result.summary[method][key];
      return `${mean.toFixed(DECIMALS[key])} ± ${std.toFixed(DECIMALS[key])}`;
    });
    return `| ${method} | ${cells.join(' | ')} |`;
  });
  const what =
    `${result.pairs.length} pairs drawn from ${result.contents} content and ${result.styles} style images, ` +
    (result.size === undefined
      ? 'each content scored at its own size'
      : `contents scored at a long side of ${result.size} px`) +
    ', mean ± standard deviation over pairs' +
    (modelDir ? `; model ${modelDir}` : '') +
    '.';
  const definitions = METRICS.map((m) => `- **${m.label}**: ${m.description}.`);
  const targets = checkTargets(meansOf(result.summary));
  return [
    '# Peerstyle evaluation',
    '',
    what,
    '',
    header,
    rule,
    ...rows,
    '',
    'Baselines: content = the content image unchanged; style = the style image resized to the content; ' +
      'reinhard = Reinhard et al. 2001 colour transfer in CIE Lab.',
    '',
    `Targets: ${targets.filter((t) => t.met).length} of ${targets.length} met.`,
    '',
    '| target | peerstyle | bound | |',
    '|---|---:|---:|---|',
    ...targets.map(
      (t) =>
        `| ${label(t.metric)} ${relationSymbol(t.direction)} ${t.bound} | ${fixed(t.metric, t.value)} | ` +
        `${fixed(t.metric, t.limit)} | ${t.met ? 'met' : 'not met'} |`,
    ),
    '',
    ...definitions,
    '',
    ...fidelitySection(result.fidelity, result.pairs.length),
    ...identificationSection(result.identification, result.styles),
    '## Per style image',
    '',
    'Peerstyle’s mean over each style image’s pairs, with the bound of each target in brackets.',
    '',
    `| style | pairs | ${TARGET_COLUMNS.map((k) => label(k)).join(' | ')} | targets met |`,
    `|---|---:|${TARGET_COLUMNS.map(() => '---:').join('|')}|---:|`,
    ...perStyle(result.pairs).map(styleRow),
    '',
  ].join('\n');
}

/** The metrics a target is set on, in the order of {@link checkTargets}. */
const TARGET_COLUMNS: readonly MetricKey[] = ['ssimLuma', 'gramDistance', 'colourSwd'];

function label(metric: MetricKey): string {
  return METRICS.find((m) => m.key === metric)!.label;
}

function fixed(metric: MetricKey, value: number): string {
  return value.toFixed(DECIMALS[metric]);
}

function styleRow(row: StyleBreakdown): string {
  const cells = TARGET_COLUMNS.map((metric) => {
    const t = row.targets.find((x) => x.metric === metric)!;
    return `${fixed(metric, t.value)} (${fixed(metric, t.limit)})`;
  });
  const met = row.targets.filter((t) => t.met).length;
  return `| ${row.style} | ${row.pairs} | ${cells.join(' | ')} | ${met} of ${row.targets.length} |`;
}

/** The JSON document written to eval.json. */
export interface EvalJson {
  pairs: number;
  contents: number;
  styles: number;
  /** The long side contents were scored at; null: each at its own size. */
  size: number | null;
  seed: number;
  model?: string;
  metrics: { key: MetricKey; label: string; description: string }[];
  summary: EvalResult['summary'];
  /** The targets checked on the summary's means (targets.ts). */
  targets: TargetCheck[];
  perStyle: StyleBreakdown[];
  /** Reconstruction PSNR (capped) and grid scores, summarised, with their targets. */
  fidelity: FidelitySummary;
  /** Style identification per method (style-identification.ts). */
  identification: EvalResult['identification'];
  perPair: EvalResult['pairs'];
  /** The strength-0 reconstruction of each content image. */
  perContent: EvalResult['reconstructions'];
}

/** The evaluation as a JSON-ready object. */
export function toJson(result: EvalResult, modelDir?: string): EvalJson {
  return {
    pairs: result.pairs.length,
    contents: result.contents,
    styles: result.styles,
    size: result.size ?? null,
    seed: result.seed,
    ...(modelDir ? { model: modelDir } : {}),
    metrics: METRICS.map((m) => ({ key: m.key, label: m.label, description: m.description })),
    summary: result.summary,
    targets: checkTargets(meansOf(result.summary)),
    perStyle: perStyle(result.pairs),
    fidelity: result.fidelity,
    identification: result.identification,
    perPair: result.pairs,
    perContent: result.reconstructions,
  };
}

/** What the fidelity figures are called in tables and target lines. */
const FIDELITY_LABELS: Record<FidelityTarget['figure'] | 'psnrRgb', string> = {
  psnrLuma: 'PSNR luma (dB) ↑',
  psnrRgb: 'PSNR RGB (dB) ↑',
  gridScore: 'grid score ↓',
};

/** `mean ± std` with `digits` decimals, or a dash when there was nothing to average. */
function counted(s: CountedSummary, digits: number): string {
  return s.n ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : '–';
}

/** The fidelity section of eval.md: the table next to the content baseline, the targets, the definitions. */
export function fidelitySection(f: FidelitySummary, pairs: number): string[] {
  const r = f.reconstruction;
  const targetLine = (t: FidelityTarget): string =>
    `- ${FIDELITY_LABELS[t.figure].replace(/ [↑↓]$/, '')} of ${t.of === 'reconstruction' ? 'the reconstructions' : 'the Peerstyle outputs'}: ` +
    `${Number.isNaN(t.value) ? '–' : t.value.toFixed(t.figure === 'psnrLuma' ? 2 : 3)} ` +
    `${t.direction === 'atLeast' ? '≥' : '≤'} ${t.limit}: ${t.met ? 'met' : 'not met'}`;
  return [
    '## Rendering fidelity',
    '',
    `Reconstruction: each of the ${r.contents} content images once at strength 0 (encoder and decoder only, ` +
      `the content’s own colour statistics), against itself. Grid score: over the ${pairs} pairs; ` +
      '1 means no more checkerboard at the 2- and 4-pixel periods than the content has.',
    '',
    `| figure | content | reinhard | peerstyle | reconstruction (strength 0) |`,
    '|---|---:|---:|---:|---:|',
    `| ${FIDELITY_LABELS.psnrLuma} | ∞ | – | – | ${counted(r.psnrLuma, 2)} |`,
    `| ${FIDELITY_LABELS.psnrRgb} | ∞ | – | – | ${counted(r.psnrRgb, 2)} |`,
    `| ${FIDELITY_LABELS.gridScore} | 1 | ${counted(f.gridScore.reinhard, 3)} | ${counted(f.gridScore.peerstyle, 3)} | ` +
      `${counted(r.gridScore, 3)} |`,
    '',
    `Fidelity targets: ${f.targets.filter((t) => t.met).length} of ${f.targets.length} met.`,
    '',
    ...f.targets.map(targetLine),
    ...(f.notes.length ? ['', ...f.notes.map((n) => `Note: ${n}`)] : []),
    '',
    `- **PSNR luma / RGB**: 10·log10(255² / MSE) of the reconstruction against the content, on Rec. 601 luma ` +
      `or over all R, G and B values; mean ± standard deviation over contents, each value capped at ` +
      `${PSNR_CAP_DB} dB (an exact reconstruction would be ∞, as the content against itself is).`,
    '- **grid score**: peak prominence of the output ÷ that of its content, on luma. Peak prominence: ' +
      'the largest centred power-of-two square crop (≥ 32 px), mean removed, 2-D Hann window, power ' +
      'spectrum; at (N/2, 0), (0, N/2), (N/2, N/2), (N/4, 0), (0, N/4), (N/4, N/4), (N/4, N/2) and ' +
      '(N/2, N/4) cycles per image, the power ÷ the median power of the 7×7 neighbourhood without the ' +
      'peak; the mean of the nine. Reinhard only recolours, so its score should be about 1.',
    '',
  ];
}

/** The style-identification section of eval.md: one figure per method, and what it means. */
export function identificationSection(identification: EvalResult['identification'], styles: number): string[] {
  return [
    '## Style identification',
    '',
    `Each image of each pair compared by texture with all ${styles} style images of the run: the share of ` +
      'the other styles farther from it than its own (1: its own style is the nearest; about 0.5: its ' +
      'texture does not tell which style it came from). Luma only, mean and contrast removed, so colour ' +
      'counts for nothing; Gram distance over a 3-level pyramid (full, ½ and ¼ side).',
    '',
    `| ${METHODS.join(' | ')} |`,
    `|${METHODS.map(() => '---:').join('|')}|`,
    `| ${METHODS.map((m) => counted(identification[m], 3)).join(' | ')} |`,
    '',
  ];
}
