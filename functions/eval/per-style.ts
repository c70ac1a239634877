/**
 * The evaluation broken down by style image: a mean over a few hundred pairs can hide one style the
 * model cannot do (a flat four-colour pattern, say) behind many it does well, and a user choosing styles
 * wants to see which is which.
 */
import { METRICS, type MetricKey } from './pair-metrics';
import type { PairResult } from './run-eval';
import { checkTargets, type MethodMeans, type TargetCheck } from './targets';

/** The means of one style image's pairs, and the targets checked on them. */
export interface StyleBreakdown {
  style: string;
  pairs: number;
  means: MethodMeans;
  targets: TargetCheck[];
}

/** One entry per style image, in name order. */
export function perStyle(pairs: readonly PairResult[]): StyleBreakdown[] {
  const groups = new Map<string, PairResult[]>();
  for (const pair of pairs) groups.set(pair.style, [...(groups.get(pair.style) ?? []), pair]);
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([style, group]) => {
      const mean = (method: keyof MethodMeans): Record<MetricKey, number> => {
        const out = {} as Record<MetricKey, number>;
        for (const { key } of METRICS)
          out[key] = group.reduce((sum, p) => sum + p.metrics[method][key], 0) / group.length;
        return out;
      };
      const means: MethodMeans = { style: mean('style'), reinhard: mean('reinhard'), peerstyle: mean('peerstyle') };
      return { style, pairs: group.length, means, targets: checkTargets(means) };
    });
}
