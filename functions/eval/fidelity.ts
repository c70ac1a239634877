/**
 * Rendering fidelity: the two figures that say whether a model draws cleanly, whatever its style.
 * The reconstruction PSNR asks whether the encoder and decoder can give the content back (strength 0:
 * no transfer, the content's own colour statistics); the grid score asks whether the decoder's stride-2
 * upsampling leaves a checkerboard (grid-score.ts). Both have absolute targets, the product's quality
 * bars, unlike the style targets (targets.ts), which are relative to the run's baselines.
 */
import type { MetricSummary } from './pair-metrics';

/** The reconstruction of one content image at strength 0. */
export interface ReconstructionResult {
  content: string;
  /** The style image passed along; at strength 0 it should not matter. */
  style: string;
  /** dB, capped at PSNR_CAP_DB (psnr.ts). */
  psnrLuma: number;
  /** dB, capped at PSNR_CAP_DB (psnr.ts). */
  psnrRgb: number;
  /** Null when the image is too small or flat to score (grid-score.ts). */
  gridScore: number | null;
}

/** A mean and sample standard deviation, and over how many values; NaN (null in JSON) when none. */
export interface CountedSummary extends MetricSummary {
  n: number;
}

/** One absolute target. */
export interface FidelityTarget {
  figure: 'psnrLuma' | 'gridScore';
  /** Whose figure is checked: the strength-0 reconstructions or the stylised outputs. */
  of: 'reconstruction' | 'peerstyle';
  value: number;
  limit: number;
  direction: 'atLeast' | 'atMost';
  met: boolean;
}

/** The fidelity figures of a run. */
export interface FidelitySummary {
  reconstruction: {
    /** Content images reconstructed (each once). */
    contents: number;
    psnrLuma: CountedSummary;
    psnrRgb: CountedSummary;
    gridScore: CountedSummary;
  };
  /** Grid scores over pairs, of the stylised outputs and of the Reinhard baseline (a sanity check: ≈ 1). */
  gridScore: { reinhard: CountedSummary; peerstyle: CountedSummary };
  /** Why some figures have fewer values than images, one line each; empty when nothing was skipped. */
  notes: string[];
  targets: FidelityTarget[];
}

/** The quality bars: a reconstruction with luma PSNR ≥ 26 dB, outputs with a grid score ≤ 2. */
export const FIDELITY_TARGETS = { psnrLuma: 26, gridScore: 2 } as const;

/** Mean, sample standard deviation (n − 1; 0 for one value) and count of the non-null values. */
export function countedSummary(values: readonly (number | null)[]): CountedSummary {
  const xs = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  const n = xs.length;
  const mean = n ? xs.reduce((s, x) => s + x, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : n ? 0 : NaN;
  return { mean, std, n };
}

/** The pair figures {@link summariseFidelity} needs. */
export interface PairGridScores {
  reinhard: number | null;
  peerstyle: number | null;
}

/** Summarises the reconstructions and the pairs' grid scores, and checks the targets. */
export function summariseFidelity(
  reconstructions: readonly ReconstructionResult[],
  pairs: readonly PairGridScores[],
  notes: readonly string[] = [],
): FidelitySummary {
  const reconstruction = {
    contents: reconstructions.length,
    psnrLuma: countedSummary(reconstructions.map((r) => r.psnrLuma)),
    psnrRgb: countedSummary(reconstructions.map((r) => r.psnrRgb)),
    gridScore: countedSummary(reconstructions.map((r) => r.gridScore)),
  };
  const gridScore = {
    reinhard: countedSummary(pairs.map((p) => p.reinhard)),
    peerstyle: countedSummary(pairs.map((p) => p.peerstyle)),
  };
  const psnr = reconstruction.psnrLuma.mean;
  const grid = gridScore.peerstyle.mean;
  return {
    reconstruction,
    gridScore,
    notes: [...notes],
    targets: [
      {
        figure: 'psnrLuma',
        of: 'reconstruction',
        value: psnr,
        limit: FIDELITY_TARGETS.psnrLuma,
        direction: 'atLeast',
        met: psnr >= FIDELITY_TARGETS.psnrLuma,
      },
      {
        figure: 'gridScore',
        of: 'peerstyle',
        value: grid,
        limit: FIDELITY_TARGETS.gridScore,
        direction: 'atMost',
        met: grid <= FIDELITY_TARGETS.gridScore,
      },
    ],
  };
}
