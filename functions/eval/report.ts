/**
 * Renders an evaluation as the markdown table people read (printed and written to eval.md) and as the
 * JSON document that model cards and the model manifest take their figures from. Both carry the same
 * numbers; the JSON keeps them unrounded and adds the per-pair values and the metric definitions.
 */
import { METRICS, type MetricKey } from './pair-metrics';
import { perStyle, type StyleBreakdown } from './per-style';
import { METHODS, type EvalResult } from './run-eval';
import { checkTargets, meansOf, type TargetCheck } from './targets';

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
    `long side ≤ ${result.maxSide} px, mean ± standard deviation over pairs` +
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
        `| ${label(t.metric)} ${t.direction === 'atLeast' ? '≥' : '<'} ${t.bound} | ${fixed(t.metric, t.value)} | ` +
        `${fixed(t.metric, t.limit)} | ${t.met ? 'met' : 'not met'} |`,
    ),
    '',
    ...definitions,
    '',
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
  maxSide: number;
  seed: number;
  model?: string;
  metrics: { key: MetricKey; label: string; description: string }[];
  summary: EvalResult['summary'];
  /** The targets checked on the summary's means (targets.ts). */
  targets: TargetCheck[];
  perStyle: StyleBreakdown[];
  perPair: EvalResult['pairs'];
}

/** The evaluation as a JSON-ready object. */
export function toJson(result: EvalResult, modelDir?: string): EvalJson {
  return {
    pairs: result.pairs.length,
    contents: result.contents,
    styles: result.styles,
    maxSide: result.maxSide,
    seed: result.seed,
    ...(modelDir ? { model: modelDir } : {}),
    metrics: METRICS.map((m) => ({ key: m.key, label: m.label, description: m.description })),
    summary: result.summary,
    targets: checkTargets(meansOf(result.summary)),
    perStyle: perStyle(result.pairs),
    perPair: result.pairs,
  };
}
