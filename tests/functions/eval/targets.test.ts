/**
 * The quality targets (functions/eval/targets.ts), the per-style breakdown (per-style.ts), the fidelity
 * targets (fidelity.ts) and how the report shows them, on hand-made figures whose answers are known.
 */
import { countedSummary, summariseFidelity } from '../../../functions/eval/fidelity';
import type { MetricValues } from '../../../functions/eval/pair-metrics';
import { summarise } from '../../../functions/eval/pair-metrics';
import { perStyle } from '../../../functions/eval/per-style';
import { formatMarkdown, toJson } from '../../../functions/eval/report';
import { METHODS, type EvalResult, type Method, type PairResult } from '../../../functions/eval/run-eval';
import { checkTargets, type MethodMeans } from '../../../functions/eval/targets';

function values(ssimLuma: number, gramDistance: number, colourSwd: number): MetricValues {
  return { ssimLuma, ssimEdges: ssimLuma, gramDistance, colourSwd };
}

function means(peerstyle: MetricValues): MethodMeans {
  return { style: values(0.2, 0, 0), reinhard: values(0.8, 0.3, 10), peerstyle };
}

describe('checkTargets', () => {
  it('meets all three when SSIM reaches halfway, Gram is at most 0.85 × Reinhard’s and SWD under it', () => {
    const checks = checkTargets(means(values(0.5, 0.255, 9.99)));
    expect(checks.map((c) => [c.metric, c.met])).toEqual([
      ['ssimLuma', true],
      ['gramDistance', true],
      ['colourSwd', true],
    ]);
    expect(checks[0]?.limit).toBeCloseTo(0.5, 12);
    expect(checks[1]?.limit).toBeCloseTo(0.255, 12);
  });

  it('refuses a Gram distance under Reinhard’s but above 0.85 × it: a recolouring must not pass as texture', () => {
    const checks = checkTargets(means(values(0.5, 0.26, 9.99)));
    expect(checks[1]).toMatchObject({
      metric: 'gramDistance',
      bound: '0.85 × Reinhard',
      direction: 'atMost',
      met: false,
    });
  });

  it('fails each one on its own side of its bound, and counts a tie with Reinhard as not below', () => {
    const checks = checkTargets(means(values(0.499, 0.3, 10.5)));
    expect(checks.map((c) => c.met)).toEqual([false, false, false]);
    expect(checks.map((c) => c.limit)).toEqual([expect.closeTo(0.5, 12), expect.closeTo(0.255, 12), 10]);
  });
});

function pair(style: string, peerstyle: MetricValues): PairResult {
  return {
    content: 'c.jpg',
    style,
    metrics: { content: values(1, 0.5, 40), style: values(0.2, 0, 0), reinhard: values(0.8, 0.3, 10), peerstyle },
    gridScore: { reinhard: 1, peerstyle: 3 },
    identification: { content: 0.5, style: 1, reinhard: 0.5, peerstyle: 0.75 },
  };
}

/** Two styles: "flat.png" fails its colour target badly, "oil.jpg" meets everything. */
const pairs = [
  pair('oil.jpg', values(0.6, 0.2, 8)),
  pair('flat.png', values(0.6, 0.2, 60)),
  pair('oil.jpg', values(0.5, 0.1, 6)),
];

describe('perStyle', () => {
  it('averages each style’s pairs and checks the targets on them, in name order', () => {
    const rows = perStyle(pairs);
    expect(rows.map((r) => [r.style, r.pairs])).toEqual([
      ['flat.png', 1],
      ['oil.jpg', 2],
    ]);
    expect(rows[1]?.means.peerstyle).toEqual(values(0.55, expect.closeTo(0.15, 12), 7));
    expect(rows[0]?.targets.map((t) => t.met)).toEqual([true, true, false]);
    expect(rows[1]?.targets.map((t) => t.met)).toEqual([true, true, true]);
  });
});

describe('the report', () => {
  const summary = {} as EvalResult['summary'];
  for (const method of METHODS) summary[method] = summarise(pairs.map((p) => p.metrics[method as Method]));
  const reconstructions = [{ content: 'c.jpg', style: 'oil.jpg', psnrLuma: 27.5, psnrRgb: 25.25, gridScore: 1.5 }];
  const result: EvalResult = {
    pairs,
    summary,
    fidelity: summariseFidelity(
      reconstructions,
      pairs.map((p) => p.gridScore),
    ),
    identification: {
      content: countedSummary(pairs.map((p) => p.identification.content)),
      style: countedSummary(pairs.map((p) => p.identification.style)),
      reinhard: countedSummary(pairs.map((p) => p.identification.reinhard)),
      peerstyle: countedSummary([0.75, 0.5, null]),
    },
    reconstructions,
    contents: 1,
    styles: 2,
    size: 64,
    seed: 1,
    sheet: [],
  };

  it('shows the overall targets and the per-style rows in the markdown', () => {
    const md = formatMarkdown(result);
    // Overall colour SWD: (8 + 60 + 6) / 3 = 24.67, over Reinhard's 10.
    expect(md).toContain('Targets: 2 of 3 met.');
    expect(md).toContain('| colour SWD ↓ < Reinhard | 24.67 | 10.00 | not met |');
    expect(md).toContain('| SSIM luma ↑ ≥ halfway from the style image to Reinhard | 0.567 | 0.500 | met |');
    expect(md).toContain('| flat.png | 1 | 0.600 (0.500) | 0.200 (0.255) | 60.00 (10.00) | 2 of 3 |');
    expect(md).toContain('| oil.jpg | 2 | 0.550 (0.500) | 0.150 (0.255) | 7.00 (10.00) | 3 of 3 |');
  });

  it('shows the fidelity figures next to the content baseline, with their targets', () => {
    const md = formatMarkdown(result);
    expect(md).toContain('contents scored at a long side of 64 px');
    expect(md).toContain('| PSNR luma (dB) ↑ | ∞ | – | – | 27.50 ± 0.00 |');
    expect(md).toContain('| grid score ↓ | 1 | 1.000 ± 0.000 | 3.000 ± 0.000 | 1.500 ± 0.000 |');
    expect(md).toContain('Fidelity targets: 1 of 2 met.');
    expect(md).toContain('- PSNR luma (dB) of the reconstructions: 27.50 ≥ 26: met');
    expect(md).toContain('- grid score of the Peerstyle outputs: 3.000 ≤ 2: not met');
  });

  it('shows style identification per method, over the pairs that have a score', () => {
    const md = formatMarkdown(result);
    expect(md).toContain('## Style identification');
    expect(md).toContain('| 0.500 ± 0.000 | 1.000 ± 0.000 | 0.500 ± 0.000 | 0.625 ± 0.177 |');
    expect(toJson(result).identification.peerstyle).toMatchObject({ mean: 0.625, n: 2 });
  });

  it('carries the same checks in eval.json', () => {
    const json = toJson(result);
    expect(json.targets.map((t) => t.met)).toEqual([true, true, false]);
    expect(json.perStyle.map((r) => r.style)).toEqual(['flat.png', 'oil.jpg']);
    expect(json.fidelity.targets.map((t) => [t.figure, t.met])).toEqual([
      ['psnrLuma', true],
      ['gridScore', false],
    ]);
    expect(json.perContent).toEqual(reconstructions);
  });
});
