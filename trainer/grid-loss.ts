/**
 * The grid loss: a training term against the checkerboard that the decoder's two ×2 upsampling steps
 * paint at the 2- and 4-pixel periods, measured as `peerstyle eval`'s grid score measures it
 * (functions/eval/grid-score.ts) but in a form with useful gradients.
 *
 * Why a loss and not only an architecture: nearest-neighbour upsampling followed by a convolution
 * (the `nearest` decoder) removes most of a transposed convolution's checkerboard, yet the bundled
 * model's outputs still show peaks about 4× more prominent than the content's, because nothing in
 * TSPR's losses looks at those frequencies: the reconstruction MSE spends almost nothing on them (a
 * photo has little power there, so a grid of small amplitude costs little squared error), and the
 * discriminator needs far longer training than two CPU cores give before it notices.
 *
 * Per image, on Rec. 601 luma, with the periodic 2-D Hann window (the grid score's steps 1–3):
 * - the DFT at the peaks ({@link TRAINING_GRID_GROUPS}: the score's nine at the 2- and 4-pixel periods,
 *   and the rest of the 8-pixel lattice), and at the 40 bins of the two square rings at distances 2 and 3
 *   around each peak;
 * - prominence = power at the peak ÷ mean power of its rings. The grid score takes the median of a
 *   7×7 neighbourhood; a mean is smooth, and the ring at distance 1 is left out because the Hann window
 *   spreads a tone on an exact bin into exactly its 8 neighbours, so those bins carry the peak itself;
 * - only the peaks learn: the rings' power is read without a gradient (see {@link GridLoss.loss});
 * - an image's prominence in a group of peaks is the mean over the group, as in the grid score, whose
 *   value is the output's prominence ÷ the content's;
 * - loss = max(0, √(prominence(output) ÷ prominence(target)) − 1), averaged over the groups and the
 *   batch: zero while
 *   the output's peaks stand no higher above their surroundings than the target image's. The square
 *   root makes it a ratio of amplitudes, whose gradient on a peak's DFT coefficient has about the same
 *   size however strong the grid (a ratio of powers grows with the grid and swamps the other losses;
 *   its logarithm shrinks as 1/amplitude, so a strong grid was barely pushed). The ratio is taken of
 *   the means over peaks, not peak by peak, because a photo's power at a single bin fluctuates (its
 *   prominences at the score's nine peaks of one crop range from 0.02 to 1.6) and a per-peak target
 *   would chase that noise.
 *
 * The DFT is separable, so only the columns and rows of frequencies that peaks and rings use (7 around
 * each multiple of N/8: 56) are computed: two small matrix products per image.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EIGHT_PIXEL_PEAKS, GRID_PEAKS, hann, type GridPeaks as Peaks } from '../functions/eval/grid-score';
import { stopGradient } from './nn/stop-gradient';

/** Rec. 601 luma weights, the grid score's (functions/eval/luminance.ts). */
const LUMA = [0.299, 0.587, 0.114] as const;

/** Chebyshev distances of the rings whose mean power is a peak's background. */
const RING_DISTANCES = [2, 3] as const;

/**
 * The groups of peaks the loss reads, each hinged on its own: the grid score's nine (2- and 4-pixel
 * periods) and the rest of the 8-pixel lattice. One mean over all 33 was tried first: a photo's JPEG
 * blocks put peaks on the 8-pixel lattice, which raised the target's mean so far that a 2-pixel
 * checkerboard could stay at many times the content's prominence. The 8-pixel peaks are there because
 * a decoder trained against the 2- and 4-pixel peaks alone moved its grid to 8-pixel cells
 * (checkerboards over skies and dark areas, with the grid score at 1.86).
 */
export const TRAINING_GRID_GROUPS: readonly Peaks[] = [GRID_PEAKS, EIGHT_PIXEL_PEAKS];

/**
 * Floor of the output's background power, as a fraction of the target's: keeps a flat output's ratio
 * finite. It must stay far below the background of a blurry output, whose rings hold 1/100 of a sharp
 * photo's power and less: a floor of 0.01 hid an 8-pixel checkerboard on such outputs entirely.
 */
const BACKGROUND_FLOOR = 1e-5;
const TINY = 1e-12;

/** One peak's bin and its ring bins, as indices into the frequency lists. */
interface PeakBins {
  peak: [number, number];
  ring: [number, number][];
}

/**
 * The fixed tensors of the loss for square crops of side `size`: the windowed cosine and sine bases of
 * the needed frequencies, and the matrices that select each peak's power and average its rings'.
 */
interface GridBasis {
  size: number;
  /** [N, F]: w(x)·cos(2π f x / N) for each needed frequency f. */
  cos: tf.Tensor2D;
  /** [N, F]: w(x)·sin(2π f x / N). */
  sin: tf.Tensor2D;
  /** [F·F, P]: picks each of the P peaks' power out of the flattened [u, v] power grid. */
  peakSelect: tf.Tensor2D;
  /** [F·F, P]: averages each peak's ring bins. */
  ringMean: tf.Tensor2D;
}

function buildBasis(size: number, gridPeaks: Peaks): GridBasis {
  const wrap = (i: number) => ((i % size) + size) % size;
  const frequencies: number[] = [];
  const indexOf = new Map<number, number>();
  const need = (f: number): number => {
    const k = wrap(f);
    let i = indexOf.get(k);
    if (i === undefined) {
      i = frequencies.length;
      frequencies.push(k);
      indexOf.set(k, i);
    }
    return i;
  };
  const peaks: PeakBins[] = gridPeaks.map(([fu, fv]) => {
    const u = fu * size;
    const v = fv * size;
    const ring: [number, number][] = [];
    for (const d of RING_DISTANCES) {
      for (let dv = -d; dv <= d; dv++) {
        for (let du = -d; du <= d; du++) {
          if (Math.max(Math.abs(du), Math.abs(dv)) === d) ring.push([need(u + du), need(v + dv)]);
        }
      }
    }
    return { peak: [need(u), need(v)], ring };
  });

  const f = frequencies.length;
  const w = hann(size);
  const cos = new Float32Array(size * f);
  const sin = new Float32Array(size * f);
  for (let x = 0; x < size; x++) {
    for (let j = 0; j < f; j++) {
      // j < F = frequencies.length and x < N = w.length by the loop bounds.
      const angle = (2 * Math.PI * frequencies[j]! * x) / size;
      cos[x * f + j] = w[x]! * Math.cos(angle);
      sin[x * f + j] = w[x]! * Math.sin(angle);
    }
  }
  // The power grid is laid out [u, v] (see GridLoss.power), flattened as u·F + v.
  const peakSelect = new Float32Array(f * f * peaks.length);
  const ringMean = new Float32Array(f * f * peaks.length);
  for (const [p, { peak, ring }] of peaks.entries()) {
    peakSelect[(peak[0] * f + peak[1]) * peaks.length + p] = 1;
    for (const [iu, iv] of ring) {
      const at = (iu * f + iv) * peaks.length + p;
      ringMean[at] = (ringMean[at] ?? 0) + 1 / ring.length;
    }
  }
  return {
    size,
    cos: tf.keep(tf.tensor2d(cos, [size, f])),
    sin: tf.keep(tf.tensor2d(sin, [size, f])),
    peakSelect: tf.keep(tf.tensor2d(peakSelect, [f * f, peaks.length])),
    ringMean: tf.keep(tf.tensor2d(ringMean, [f * f, peaks.length])),
  };
}

/** The grid loss for square crops; {@link dispose} releases its bases. */
export class GridLoss {
  private basis: GridBasis | null = null;

  /** All groups' peaks in one list, group after group. */
  private readonly allPeaks: Peaks;

  /** @param groups groups of peaks as fractions of N (multiples of 1/8, so N must be a multiple of 8) */
  constructor(readonly groups: readonly Peaks[] = TRAINING_GRID_GROUPS) {
    this.allPeaks = groups.flat();
  }

  /**
   * The loss of outputs against target images (both [B, N, N, 3] in [-1, 1], paired by batch index;
   * N a multiple of 8, at least 16). Gradients flow into `outputs` only.
   */
  loss(outputs: tf.Tensor4D, targets: tf.Tensor4D): tf.Scalar {
    tf.util.assertShapesMatch(outputs.shape, targets.shape, 'GridLoss: ');
    const [, height, width] = outputs.shape;
    if (height !== width || height % 8 !== 0 || height < 16) {
      throw new Error(
        `GridLoss needs square crops whose side is a multiple of 8 and at least 16, got ${height}×${width}.`,
      );
    }
    return tf.tidy(() => {
      const target = this.peaks(stopGradient(targets));
      const output = this.peaks(outputs);
      const targetProminences = tf.div(target.peak, tf.add(target.background, TINY)); // [B, P]
      // The output's background is read, not learned from: with its gradient, the cheapest way down is
      // to raise the power around the peaks (noise at the grid's frequencies) instead of lowering them.
      const background = tf.add(
        stopGradient(output.background),
        tf.add(tf.mul(target.background, BACKGROUND_FLOOR), TINY),
      );
      const outputProminences = tf.div(output.peak, background);
      let start = 0;
      const excess = this.groups.map((group) => {
        const mean = (t: tf.Tensor) => tf.mean(tf.slice(t, [0, start], [-1, group.length]), 1); // [B]
        const ratio = tf.div(mean(outputProminences), tf.add(mean(targetProminences), TINY));
        start += group.length;
        return tf.mean(tf.relu(tf.sub(tf.sqrt(tf.add(ratio, TINY)), 1)));
      });
      return tf.div(tf.addN(excess), excess.length) as tf.Scalar;
    });
  }

  /** Each image's power at the peaks and the mean power of their rings, both [B, P]. */
  peaks(images: tf.Tensor4D): { peak: tf.Tensor2D; background: tf.Tensor2D } {
    const [b, size] = images.shape;
    const basis = this.basisFor(size);
    const f = basis.cos.shape[1];
    const luma = tf.sum(tf.mul(images, tf.tensor1d(LUMA as unknown as number[])), -1); // [B, N(y), N(x)]
    // Along x: (A − iB)[y, u] = Σx g[y, x] w(x) e^{−2πiux/N}.
    const rows = tf.reshape(luma, [b * size, size]);
    const a = tf.transpose(tf.reshape(tf.matMul(rows, basis.cos), [b, size, f]), [0, 2, 1]); // [B, F(u), N(y)]
    const s = tf.transpose(tf.reshape(tf.matMul(rows, basis.sin), [b, size, f]), [0, 2, 1]);
    // Along y: X[u, v] = Σy w(y) e^{−2πivy/N} (A − iB)[y, u] = (A·C − B·S) − i(B·C + A·S).
    const a2 = tf.reshape(a, [b * f, size]);
    const s2 = tf.reshape(s, [b * f, size]);
    const re = tf.sub(tf.matMul(a2, basis.cos), tf.matMul(s2, basis.sin)); // [B·F(u), F(v)]
    const im = tf.add(tf.matMul(s2, basis.cos), tf.matMul(a2, basis.sin));
    const power = tf.reshape(tf.add(tf.square(re), tf.square(im)), [b, f * f]);
    return { peak: tf.matMul(power, basis.peakSelect), background: tf.matMul(power, basis.ringMean) };
  }

  private basisFor(size: number): GridBasis {
    if (this.basis?.size !== size) {
      this.dispose();
      this.basis = buildBasis(size, this.allPeaks);
    }
    return this.basis;
  }

  dispose(): void {
    if (!this.basis) return;
    const { cos, sin, peakSelect, ringMean } = this.basis;
    tf.dispose([cos, sin, peakSelect, ringMean]);
    this.basis = null;
  }
}
