/**
 * Renders an evaluation as the markdown table people read (printed and written to eval.md) and as the
 * JSON document that model cards and the model manifest take their figures from. Both carry the same
 * numbers; the JSON keeps them unrounded and adds the per-pair values and the metric definitions.
 */
import { METRICS, type MetricKey } from './pair-metrics';
import { METHODS, type EvalResult } from './run-eval';

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
    ...definitions,
    '',
  ].join('\n');
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
    perPair: result.pairs,
  };
}
