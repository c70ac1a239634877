/**
 * The quality bar a Peerstyle model is held to, checked against the baselines of the same run: both style
 * distances below Reinhard's colour transfer (more style than a recolouring gives; the texture distance by a
 * margin, {@link GRAM_MARGIN}, since a recolouring alone already moves it part of the way), and a luminance SSIM
 * at least halfway from the style image's to Reinhard's (keeps at least half of what can be kept). The
 * bar is relative because the absolute figures depend on the images: smooth contents score a high SSIM
 * against anything.
 */
import type { MetricKey, MetricSummary } from './pair-metrics';
import type { Method } from './run-eval';

/** One target: the model's mean, the bound it must beat, and whether it does. */
export interface TargetCheck {
  metric: MetricKey;
  /** How the bound is made, in words. */
  bound: string;
  value: number;
  limit: number;
  /** 'atLeast': value ≥ limit passes; 'below': value < limit passes; 'atMost': value ≤ limit passes. */
  direction: 'atLeast' | 'below' | 'atMost';
  met: boolean;
}

/** Means per metric of a subset of methods: enough to check targets on any group of pairs. */
export type MethodMeans = Record<Extract<Method, 'style' | 'reinhard' | 'peerstyle'>, Record<MetricKey, number>>;

/** The Gram distance must be at most this fraction of Reinhard's: texture, not only palette. */
export const GRAM_MARGIN = 0.85;

/** The three targets, checked on the given means. */
export function checkTargets(means: MethodMeans): TargetCheck[] {
  const halfway = (means.style.ssimLuma + means.reinhard.ssimLuma) / 2;
  const below = (metric: MetricKey, factor = 1): TargetCheck => {
    const limit = means.reinhard[metric] * factor;
    return {
      metric,
      bound: factor === 1 ? 'Reinhard' : `${factor} × Reinhard`,
      value: means.peerstyle[metric],
      limit,
      direction: factor === 1 ? 'below' : 'atMost',
      met: factor === 1 ? means.peerstyle[metric] < limit : means.peerstyle[metric] <= limit,
    };
  };
  return [
    {
      metric: 'ssimLuma',
      bound: 'halfway from the style image to Reinhard',
      value: means.peerstyle.ssimLuma,
      limit: halfway,
      direction: 'atLeast',
      met: means.peerstyle.ssimLuma >= halfway,
    },
    below('gramDistance', GRAM_MARGIN),
    below('colourSwd'),
  ];
}

/** The means of a summary table (mean ± deviation per method and metric). */
export function meansOf(summary: Record<Method, Record<MetricKey, MetricSummary>>): MethodMeans {
  const pick = (method: keyof MethodMeans) =>
    Object.fromEntries(Object.entries(summary[method]).map(([k, v]) => [k, v.mean])) as Record<MetricKey, number>;
  return { style: pick('style'), reinhard: pick('reinhard'), peerstyle: pick('peerstyle') };
}

/** The relation a passing value has to its bound, as printed in reports and model cards. */
export function relationSymbol(direction: string): string {
  if (direction === 'atLeast') return '≥';
  if (direction === 'atMost') return '≤';
  return '<';
}
