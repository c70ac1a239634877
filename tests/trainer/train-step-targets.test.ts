/**
 * The auxiliary step's gradient follows the reference's detaching (models/gan_aux_model.py,
 * backward_G_aux): the metric loss compares style_A's and style_B's codes with detached codes of real_A
 * and real_B, and the latent cycle compares the re-encodings with detached encodings of the inputs. The
 * encoder's gradient in a training step, with every auxiliary weight but one set to zero, must equal the
 * gradient of that one term written out with those targets detached. The texture loss on the style codes
 * (lambdaTextureCodes, Peerstyle's addition) reaches the encoder through the style exemplar's latent only,
 * and leaves the gradients of the main decoder and TPFR as they are without it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../trainer/backend';
import { applyOverrides, presetConfig, type TrainConfig } from '../../trainer/config';
import { colourStats } from '../../trainer/layers/colour-head';
import { latentCycleLoss, metricLoss, stopGradient } from '../../trainer/losses';
import { createModel, splitLatent } from '../../trainer/model';
import { tpfr } from '../../trainer/layers/tpfr';
import { decode } from '../../trainer/networks/decoder';
import { encode } from '../../trainer/networks/encoder';
import { OPTIMISER_GROUPS, type ParamStore } from '../../trainer/nn/params';
import { TextureLoss } from '../../trainer/texture-loss';
import { TsprTrainer, type ImageBatch } from '../../trainer/train-step';
import { Mulberry32 } from '../../trainer/rng';
import { at, defined } from '../support/checked';

const SIZE = 32;

/** A seeded random image in [-1, 1], [1, SIZE, SIZE, 3] flattened (built without the engine). */
function image(seed: number): Float32Array {
  const rng = new Mulberry32(seed);
  return Float32Array.from({ length: SIZE * SIZE * 3 }, () => rng.next() * 2 - 1);
}

/** The gradients one step hands to an optimiser ('aux' or 'main'), of its own parameters. */
function stepGrads(
  cfg: TrainConfig,
  store: ParamStore,
  batch: ImageBatch,
  optimiser: 'aux' | 'main',
  prefixes: readonly string[] = OPTIMISER_GROUPS[optimiser],
): Record<string, Float32Array> {
  const trainer = new TsprTrainer(cfg, store);
  const captured: Record<string, Float32Array> = {};
  const target = trainer[optimiser];
  const apply = target.apply.bind(target);
  target.apply = (grads, lr) => {
    for (const [name, g] of Object.entries(grads)) {
      if (prefixes.some((p) => name.startsWith(p))) captured[name] = Float32Array.from(g.dataSync() as Float32Array);
    }
    apply(grads, lr);
  };
  trainer.step(batch);
  trainer.dispose();
  return captured;
}

/** The encoder gradients the trainer hands to its auxiliary optimiser in one step. */
function stepEncoderGrads(cfg: TrainConfig, store: ParamStore, batch: ImageBatch): Record<string, Float32Array> {
  return stepGrads(cfg, store, batch, 'aux', ['enc.']);
}

function expectClose(actual: Record<string, Float32Array>, expected: Record<string, Float32Array>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  let worst = 0;
  let scale = 0;
  for (const [name, want] of Object.entries(expected)) {
    const got = defined(actual[name], `the gradient of ${name}`);
    want.forEach((w, i) => {
      worst = Math.max(worst, Math.abs(at(got, i) - w));
      scale = Math.max(scale, Math.abs(w));
    });
  }
  expect(scale).toBeGreaterThan(0);
  expect(worst).toBeLessThan(1e-4 * scale);
}

/**
 * Checks that one training step hands the encoder the gradient of `term` (written out on a fresh model
 * of the same seed): the whole comparison each test below makes.
 */
function expectStepEncoderGradOf(
  cfg: TrainConfig,
  seed: number,
  batch: ImageBatch,
  term: (store: ParamStore) => tf.Scalar,
): void {
  const expectedStore = createModel(cfg, seed);
  const { grads } = tf.variableGrads(() => term(expectedStore), expectedStore.trainable(['enc.']));
  const expected: Record<string, Float32Array> = {};
  for (const [name, g] of Object.entries(grads)) {
    expected[name.slice(0, name.lastIndexOf('@'))] = Float32Array.from(g.dataSync() as Float32Array);
  }
  tf.dispose(Object.values(grads));
  expectedStore.dispose();

  const store = createModel(cfg, seed);
  expectClose(stepEncoderGrads(cfg, store, batch), expected);
  store.dispose();
}

describe('auxiliary step targets', () => {
  const batch: ImageBatch = {
    batchSize: 1,
    size: SIZE,
    realA: image(1),
    styleA: image(2),
    realB: image(3),
    styleB: image(4),
  };
  const t = (a: Float32Array) => tf.tensor4d(a, [1, SIZE, SIZE, 3]);
  const only = (term: 'lambdaStyle' | 'lambdaCycleAux' | 'lambdaTextureCodes'): TrainConfig =>
    applyOverrides(presetConfig('tiny'), {
      lambdaContent: '0',
      lambdaStyle: '0',
      lambdaCycleAux: '0',
      lambdaIdtAux: '0',
      lambdaTextureCodes: '0',
      // No logit dropout: its pattern is drawn from the trainer's own generator.
      attentionDropout: '0',
      [term]: '1',
      // A margin the negatives cannot reach keeps the hinge, and with it the negative pairs, active.
      metricMargin: '100',
    });

  beforeAll(async () => {
    await initBackend('wasm', { threads: 1 });
  });

  it('passes the metric loss gradient through style_A and style_B only', () => {
    const cfg = only('lambdaStyle');
    expectStepEncoderGradOf(cfg, 5, batch, (expectedStore) => {
      const code = (x: Float32Array) => splitLatent(cfg, encode(expectedStore, cfg, t(x)).latent).style;
      return metricLoss(
        {
          realA: stopGradient(code(batch.realA)),
          styleA: code(batch.styleA),
          realB: stopGradient(code(batch.realB)),
          styleB: code(batch.styleB),
        },
        cfg.metricMargin,
      );
    });
  });

  it('passes the latent cycle gradient through the re-encodings only', () => {
    const cfg = only('lambdaCycleAux');
    expectStepEncoderGradOf(cfg, 6, batch, (expectedStore) => {
      const s = expectedStore;
      const realA = t(batch.realA);
      const styleB = t(batch.styleB);
      const encA = encode(s, cfg, realA);
      const encSB = encode(s, cfg, styleB);
      const reA = encode(s, cfg, decode(s, cfg, 'decAux', encA.latent, colourStats(realA)));
      const reSB = encode(s, cfg, decode(s, cfg, 'decAux', encSB.latent, colourStats(styleB)));
      const [a, sb, ra, rsb] = [
        splitLatent(cfg, encA.latent),
        splitLatent(cfg, encSB.latent),
        splitLatent(cfg, reA.latent),
        splitLatent(cfg, reSB.latent),
      ];
      return latentCycleLoss([
        [ra.content, stopGradient(a.content)],
        [ra.style, stopGradient(a.style)],
        [rsb.style, stopGradient(sb.style)],
        [reA.middle, stopGradient(encA.middle)],
        [reSB.middle, stopGradient(encSB.middle)],
      ]);
    });
  });

  it("passes the texture loss on the style codes through style_B's latent, not the decoder or TPFR", () => {
    const cfg = only('lambdaTextureCodes');
    const texture = new TextureLoss();
    expectStepEncoderGradOf(cfg, 7, batch, (expectedStore) => {
      const s = expectedStore;
      const styleB = t(batch.styleB);
      const zA = stopGradient(encode(s, cfg, t(batch.realA)).latent);
      const zSB = encode(s, cfg, styleB).latent;
      return s.withFrozen(['dec.', 'tpfr.'], () => {
        const live = tpfr(s, cfg, zA, zSB, { training: true, updateRunningStats: false }).output;
        return texture.loss(decode(s, cfg, 'dec', live, colourStats(styleB)), styleB);
      });
    });
    texture.dispose();

    // The main optimiser's gradients (decoder and TPFR) do not depend on the term's weight.
    const mainGrads = (weight: string) => {
      const s = createModel(cfg, 7);
      const grads = stepGrads(applyOverrides(cfg, { lambdaTextureCodes: weight }), s, batch, 'main');
      s.dispose();
      return grads;
    };
    expectClose(mainGrads('5'), mainGrads('0'));
  });
});
