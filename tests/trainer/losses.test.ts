/**
 * Tests of the TSPR losses (trainer/losses.ts) on cases small enough to compute by hand: each expected
 * value is derived in a comment next to its inputs. Also checked: the properties the training relies on
 * (zero for identical inputs, symmetry of d, both SmoothL1 branches, the metric hinge on and off),
 * finite gradients for every loss, that stopGradient detaches, and that nothing leaks tensors.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import {
  contentCycleLoss,
  latentCycleLoss,
  metricLoss,
  mse,
  ralsganDiscriminatorLoss,
  ralsganGeneratorLoss,
  reconstructionLoss,
  smoothL1Distance,
  stopGradient,
  transferCycleLoss,
} from '../../trainer/losses';
import { registerCoreGradients } from '../../trainer/backend';
import { at } from '../support/checked';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Reads a scalar and frees it, so a test can use plain numbers. */
function read(s: tf.Scalar): number {
  const v = at(s.dataSync(), 0);
  s.dispose();
  return v;
}

/** A [1, 1, 1, 1] latent holding one number: d on it is SmoothL1 of the difference. */
function cell(x: number): tf.Tensor4D {
  return tf.tensor4d([x], [1, 1, 1, 1]);
}

/** Runs a test body and checks it left no tensor behind. */
function leakFree(body: () => void): void {
  const before = tf.memory().numTensors;
  tf.tidy(body);
  expect(tf.memory().numTensors).toBe(before);
}

describe('smoothL1Distance', () => {
  it('sums SmoothL1 over channels and averages over positions', () => {
    leakFree(() => {
      // [B=1, H=1, W=2, C=2]; v = 0, so each element is SmoothL1(u):
      //   0.5 → 0.5·0.25 = 0.125, 2 → 2 − 0.5 = 1.5, −3 → 3 − 0.5 = 2.5, 0 → 0
      //   positions: 0.125 + 1.5 = 1.625 and 2.5 + 0 = 2.5; mean = 4.125 / 2 = 2.0625
      const u = tf.tensor4d([0.5, 2, -3, 0], [1, 1, 2, 2]);
      const v = tf.zeros([1, 1, 2, 2]) as tf.Tensor4D;
      expect(read(smoothL1Distance(u, v))).toBeCloseTo(2.0625, 6);
    });
  });

  it('averages over the batch, not over channels', () => {
    leakFree(() => {
      // [B=2, 1, 1, C=3], v = 0:
      //   sample 0: 0.5·(0.04 + 0.16 + 0.36) = 0.28; sample 1: (4 − 0.5) + 0 + 0 = 3.5
      //   mean over the batch = 3.78 / 2 = 1.89 (a channel mean would give 0.63)
      const u = tf.tensor4d([0.2, 0.4, -0.6, 4, 0, 0], [2, 1, 1, 3]);
      const v = tf.zeros([2, 1, 1, 3]) as tf.Tensor4D;
      expect(read(smoothL1Distance(u, v))).toBeCloseTo(1.89, 6);
    });
  });

  it('is quadratic below |x| = 1 and linear from 1 on', () => {
    leakFree(() => {
      // [difference, SmoothL1]: 0.5·x² for |x| < 1, |x| − 0.5 otherwise.
      const cases: Array<[number, number]> = [
        [0.5, 0.125], // linear branch would give 0
        [-0.9, 0.405], // linear branch would give 0.4
        [1, 0.5], // the seam: both branches agree
        [3, 2.5], // quadratic branch would give 4.5
        [-1.5, 1], // quadratic branch would give 1.125
      ];
      for (const [x, expected] of cases) {
        expect(read(smoothL1Distance(cell(x), cell(0)))).toBeCloseTo(expected, 6);
        // Only the difference matters, not where it sits.
        expect(read(smoothL1Distance(cell(10 + x), cell(10)))).toBeCloseTo(expected, 5);
      }
    });
  });

  it('is zero for identical inputs and symmetric', () => {
    leakFree(() => {
      const u = tf.randomNormal([2, 3, 3, 4], 0, 2, 'float32', 7) as tf.Tensor4D;
      const v = tf.randomNormal([2, 3, 3, 4], 0, 2, 'float32', 8) as tf.Tensor4D;
      expect(read(smoothL1Distance(u, u))).toBe(0);
      const uv = read(smoothL1Distance(u, v));
      expect(uv).toBeGreaterThan(0);
      expect(read(smoothL1Distance(v, u))).toBeCloseTo(uv, 6);
    });
  });

  it('refuses mismatched shapes instead of broadcasting', () => {
    leakFree(() => {
      const u = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
      const v = tf.zeros([1, 1, 1, 3]) as tf.Tensor4D;
      expect(() => smoothL1Distance(u, v)).toThrow(/smoothL1Distance/);
    });
  });
});

describe('mse', () => {
  it('averages the squared differences over every element', () => {
    leakFree(() => {
      // differences 0, 2, 0, 4 → squares 0, 4, 0, 16 → mean 5
      const a = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
      const b = tf.tensor4d([1, 0, 3, 0], [1, 2, 2, 1]);
      expect(read(mse(a, b))).toBeCloseTo(5, 6);
      expect(read(mse(a, a))).toBe(0);
    });
  });
});

describe('contentCycleLoss', () => {
  it('averages d of the fake and of the reconstruction to the photo content', () => {
    leakFree(() => {
      // [1, 1, 1, C=2], target 0:
      //   d(fake) = SmoothL1(1) + SmoothL1(0) = 0.5
      //   d(rec)  = SmoothL1(3) + SmoothL1(−0.5) = 2.5 + 0.125 = 2.625
      //   mean = 3.125 / 2 = 1.5625
      const target = tf.zeros([1, 1, 1, 2]) as tf.Tensor4D;
      const fake = tf.tensor4d([1, 0], [1, 1, 1, 2]);
      const rec = tf.tensor4d([3, -0.5], [1, 1, 1, 2]);
      expect(read(contentCycleLoss(fake, rec, target))).toBeCloseTo(1.5625, 6);
      expect(read(contentCycleLoss(target, target, target))).toBe(0);
    });
  });
});

// realA = 0, styleA = 0.5, realB = 2, styleB = 2.2:
//   pos = {d(styleB, realB), d(styleA, realA)} = {SmoothL1(0.2), SmoothL1(0.5)} = {0.02, 0.125} → mean 0.0725
//   neg = {d(styleA, realB), d(styleB, realA)} = {SmoothL1(−1.5), SmoothL1(2.2)} = {1, 1.7} → mean 1.35
const metricCodes = (): { realA: tf.Tensor4D; styleA: tf.Tensor4D; realB: tf.Tensor4D; styleB: tf.Tensor4D } => ({
  realA: cell(0),
  styleA: cell(0.5),
  realB: cell(2),
  styleB: cell(2.2),
});

describe('metricLoss', () => {
  it('adds the hinge when the negatives are closer than the margin', () => {
    leakFree(() => {
      // margin 2: 0.0725 + max(0, 2 − 1.35) = 0.0725 + 0.65 = 0.7225
      expect(read(metricLoss(metricCodes(), 2))).toBeCloseTo(0.7225, 6);
    });
  });

  it('is the mean positive distance once the negatives are past the margin', () => {
    leakFree(() => {
      // margin 1: max(0, 1 − 1.35) = 0, leaving 0.0725
      expect(read(metricLoss(metricCodes(), 1))).toBeCloseTo(0.0725, 6);
    });
  });

  it('refuses a margin that is not a number', () => {
    leakFree(() => {
      expect(() => metricLoss(metricCodes(), Number.NaN)).toThrow(/margin/);
    });
  });
});

describe('latentCycleLoss', () => {
  it('averages d over the pairs, whatever their shapes', () => {
    leakFree(() => {
      // Five pairs as the training step passes them; target 0 except where noted:
      //   0.4 → 0.08; 2 → 1.5; (7, 7) → 0; −1 → 0.5; [0.2, 0] over C=2 → 0.02
      //   mean = 2.1 / 5 = 0.42
      const pairs: Array<[tf.Tensor4D, tf.Tensor4D]> = [
        [cell(0.4), cell(0)],
        [cell(2), cell(0)],
        [cell(7), cell(7)],
        [cell(-1), cell(0)],
        [tf.tensor4d([0.2, 0], [1, 1, 1, 2]), tf.zeros([1, 1, 1, 2]) as tf.Tensor4D],
      ];
      expect(read(latentCycleLoss(pairs))).toBeCloseTo(0.42, 6);
    });
  });

  it('refuses an empty list', () => {
    expect(() => latentCycleLoss([])).toThrow(/at least one/);
  });
});

describe('reconstructionLoss', () => {
  it('averages MSE over the pairs', () => {
    leakFree(() => {
      // pair 1: squares 0, 4, 0, 16 → 5; pair 2: squares 1, 1 → 1; mean = 3
      const pairs: Array<[tf.Tensor, tf.Tensor]> = [
        [tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), tf.tensor4d([1, 0, 3, 0], [1, 2, 2, 1])],
        [tf.tensor4d([0, 0], [1, 1, 2, 1]), tf.tensor4d([1, -1], [1, 1, 2, 1])],
      ];
      expect(read(reconstructionLoss(pairs))).toBeCloseTo(3, 6);
      const same = tf.ones([1, 2, 2, 3]);
      expect(read(reconstructionLoss([[same, same]]))).toBe(0);
    });
  });

  it('refuses an empty list', () => {
    expect(() => reconstructionLoss([])).toThrow(/at least one/);
  });
});

describe('RaLSGAN', () => {
  // Patch outputs [1, 1, 2, 1]: C(x_r) = [1, 3] (mean 2), C(x_f) = [0, 1] (mean 0.5).
  const predReal = (): tf.Tensor => tf.tensor4d([1, 3], [1, 1, 2, 1]);
  const predFake = (): tf.Tensor => tf.tensor4d([0, 1], [1, 1, 2, 1]);

  it('discriminator: R = ½[E(C_r − E C_f − 1)² + E(C_f − E C_r + 1)²]', () => {
    leakFree(() => {
      // C_r − 0.5 − 1 = [−0.5, 1.5] → squares [0.25, 2.25] → 1.25
      // C_f − 2 + 1   = [−1, 0]     → squares [1, 0]       → 0.5
      // R = ½(1.25 + 0.5) = 0.875
      expect(read(ralsganDiscriminatorLoss(predReal(), predFake()))).toBeCloseTo(0.875, 6);
    });
  });

  it('generator: G = ½[E(C_r − E C_f + 1)² + E(C_f − E C_r − 1)²]', () => {
    leakFree(() => {
      // C_r − 0.5 + 1 = [1.5, 3.5] → squares [2.25, 12.25] → 7.25
      // C_f − 2 − 1   = [−3, −2]   → squares [9, 4]        → 6.5
      // G = ½(7.25 + 6.5) = 6.875
      expect(read(ralsganGeneratorLoss(predReal(), predFake()))).toBeCloseTo(6.875, 6);
    });
  });

  it('is zero for the discriminator when reals sit 1 above the fake mean and fakes 1 below the real mean', () => {
    leakFree(() => {
      // C_r = 0.5, C_f = −0.5: 0.5 + 0.5 − 1 = 0 and −0.5 − 0.5 + 1 = 0, so R = 0;
      // the generator then pays ½[(0.5 + 0.5 + 1)² + (−0.5 − 0.5 − 1)²] = ½(4 + 4) = 4.
      const real = tf.fill([2, 2, 2, 1], 0.5);
      const fake = tf.fill([2, 2, 2, 1], -0.5);
      expect(read(ralsganDiscriminatorLoss(real, fake))).toBeCloseTo(0, 6);
      expect(read(ralsganGeneratorLoss(real, fake))).toBeCloseTo(4, 6);
    });
  });
});

describe('transferCycleLoss', () => {
  it('averages the content and the style terms', () => {
    leakFree(() => {
      // content: SmoothL1(0.4) = 0.08; style over C=2: SmoothL1(2) + SmoothL1(−1) = 1.5 + 0.5 = 2
      // ½(0.08 + 2) = 1.04
      const fakeContent = cell(1.4);
      const targetContent = cell(1);
      const fakeStyle = tf.tensor4d([2, -1], [1, 1, 1, 2]);
      const targetStyle = tf.zeros([1, 1, 1, 2]) as tf.Tensor4D;
      expect(read(transferCycleLoss(fakeContent, targetContent, fakeStyle, targetStyle))).toBeCloseTo(1.04, 6);
      expect(read(transferCycleLoss(targetContent, targetContent, targetStyle, targetStyle))).toBe(0);
    });
  });
});

describe('stopGradient forward', () => {
  it('passes values and shape through', () => {
    leakFree(() => {
      const x = tf.tensor4d([1, -2, 3.5, 0], [1, 2, 2, 1]);
      const y = stopGradient(x);
      expect(y.shape).toEqual(x.shape);
      expect(y.dtype).toBe('float32');
      expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, 0]);
    });
  });

  it('leaks nothing outside a tidy', () => {
    const x = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    const y = stopGradient(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
    // The clone shares x's buffer: freeing it must leave x readable.
    expect(Array.from(x.dataSync())).toEqual([1, 2]);
    x.dispose();
  });
});

describe('gradients', () => {
  // tfjs-core alone registers no gradient functions; training gets them from the backend module, and
  // so do these tests. Only this block needs them, so the forward values above stand on their own.
  beforeAll(() => {
    registerCoreGradients();
  });

  it('has the gradient of SmoothL1: the difference clipped to [−1, 1], over the positions', () => {
    leakFree(() => {
      // [1, 1, W=2, 1], v = 0: ∂d/∂u = clip(u, −1, 1) / 2 = [0.5 / 2, 1 / 2]
      const u = tf.tensor4d([0.5, 3], [1, 1, 2, 1]);
      const v = tf.zeros([1, 1, 2, 1]) as tf.Tensor4D;
      const grad = tf.grad((x: tf.Tensor) => smoothL1Distance(x as tf.Tensor4D, v))(u);
      expect(Array.from(grad.dataSync())).toEqual([0.25, 0.5]);
    });
  });

  it('the hinge passes gradient only while it is active', () => {
    leakFree(() => {
      // With realA, realB and styleB fixed, styleA appears in one positive and one negative. At margin 1
      // only the positive d(styleA, realA) = SmoothL1(styleA) counts: ∂L/∂styleA = ½·0.5 = 0.25.
      // At margin 2 the hinge adds −½·∂d(styleA, realB)/∂styleA = −½·(−1) = +0.5, giving 0.75.
      const { realA, realB, styleB } = metricCodes();
      const gradAt = (margin: number): number =>
        at(
          tf
            .grad((styleA: tf.Tensor) => metricLoss({ realA, styleA: styleA as tf.Tensor4D, realB, styleB }, margin))(
              cell(0.5),
            )
            .dataSync(),
          0,
        );
      expect(gradAt(1)).toBeCloseTo(0.25, 6);
      expect(gradAt(2)).toBeCloseTo(0.75, 6);
    });
  });

  /** Random latents large enough to exercise both SmoothL1 branches. */
  const latent = (seed: number): tf.Tensor4D => tf.randomNormal([2, 3, 3, 4], 0, 1.5, 'float32', seed) as tf.Tensor4D;

  // [name, number of inputs, loss of the inputs x(0), x(1), …]: tf.valueAndGrads needs every input to
  // reach the loss.
  const losses: Array<[string, number, (x: (i: number) => tf.Tensor4D) => tf.Scalar]> = [
    ['smoothL1Distance', 2, (x) => smoothL1Distance(x(0), x(1))],
    ['mse', 2, (x) => mse(x(0), x(1))],
    ['contentCycleLoss', 3, (x) => contentCycleLoss(x(0), x(1), x(2))],
    ['metricLoss', 4, (x) => metricLoss({ realA: x(0), styleA: x(1), realB: x(2), styleB: x(3) }, 100)],
    [
      'latentCycleLoss',
      4,
      (x) =>
        latentCycleLoss([
          [x(0), x(1)],
          [x(2), x(3)],
        ]),
    ],
    [
      'reconstructionLoss',
      4,
      (x) =>
        reconstructionLoss([
          [x(0), x(1)],
          [x(2), x(3)],
        ]),
    ],
    ['ralsganDiscriminatorLoss', 2, (x) => ralsganDiscriminatorLoss(x(0), x(1))],
    ['ralsganGeneratorLoss', 2, (x) => ralsganGeneratorLoss(x(0), x(1))],
    ['transferCycleLoss', 4, (x) => transferCycleLoss(x(0), x(1), x(2), x(3))],
  ];

  it.each(losses)('%s has finite, non-zero gradients and leaks nothing', (_name, arity, loss) => {
    const inputs = Array.from({ length: arity }, (_, i) => latent(i + 1));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => loss((i) => at(xs, i) as tf.Tensor4D))(inputs);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    let norm = 0;
    for (const g of grads) {
      for (const x of g.dataSync()) {
        expect(Number.isFinite(x)).toBe(true);
        norm += x * x;
      }
    }
    expect(norm).toBeGreaterThan(0);
    tf.dispose([value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs);
  });

  describe('stopGradient backward', () => {
    it('gives a zero gradient', () => {
      leakFree(() => {
        const x = tf.tensor1d([1, -2, 3]);
        const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.square(stopGradient(t))))(x);
        expect(Array.from(grad.dataSync())).toEqual([0, 0, 0]);
      });
    });

    it('detaches only the path it is on', () => {
      leakFree(() => {
        // f(x) = Σ x·sg(x): the gradient is sg(x) = x, not the 2x of Σ x².
        const x = tf.tensor1d([1, -2, 3]);
        const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, stopGradient(t))))(x);
        expect(Array.from(grad.dataSync())).toEqual([1, -2, 3]);
      });
    });

    it('detaches a loss target: only the output side learns', () => {
      leakFree(() => {
        // d(out, sg(target)) on one cell with out − target = 0.5: ∂/∂out = 0.5, ∂/∂target = 0.
        const [gOut, gTarget] = tf.grads((out: tf.Tensor, target: tf.Tensor) =>
          smoothL1Distance(out as tf.Tensor4D, stopGradient(target as tf.Tensor4D)),
        )([cell(0.5), cell(0)]);
        expect(gOut?.dataSync()[0]).toBeCloseTo(0.5, 6);
        expect(gTarget?.dataSync()[0]).toBe(0);
      });
    });
  });
});

describe('memory', () => {
  it('each loss allocates only its result', () => {
    const a = tf.randomNormal([1, 2, 2, 3], 0, 2, 'float32', 11) as tf.Tensor4D;
    const b = tf.randomNormal([1, 2, 2, 3], 0, 2, 'float32', 12) as tf.Tensor4D;
    const calls: Array<() => tf.Scalar> = [
      () => smoothL1Distance(a, b),
      () => mse(a, b),
      () => contentCycleLoss(a, b, a),
      () => metricLoss({ realA: a, styleA: b, realB: b, styleB: a }, 1),
      () => latentCycleLoss([[a, b]]),
      () => reconstructionLoss([[a, b]]),
      () => ralsganDiscriminatorLoss(a, b),
      () => ralsganGeneratorLoss(a, b),
      () => transferCycleLoss(a, b, b, a),
    ];
    for (const call of calls) {
      const before = tf.memory().numTensors;
      const result = call();
      expect(tf.memory().numTensors).toBe(before + 1);
      result.dispose();
    }
    tf.dispose([a, b]);
  });
});
