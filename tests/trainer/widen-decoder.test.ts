/**
 * Widening trained decoders (trainer/widen-decoder.ts): the widened decoder renders what the trained one
 * rendered, in both upsampling modes, and its copied channels are split unevenly so that training can
 * pull them apart.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerCoreGradients } from '../../trainer/backend';

import { latentChannels, presetConfig, type ModelConfig, type UpsampleMode } from '../../trainer/config';
import { decode, declareDecoder } from '../../trainer/networks/decoder';
import { colourStats } from '../../trainer/layers/colour-head';
import { ParamStore, type NamedArray } from '../../trainer/nn/params';
import { widenDecoders } from '../../trainer/widen-decoder';
import { defined } from '../support/checked';

beforeAll(async () => {
  registerCoreGradients();
  await tf.setBackend('cpu');
});

function decoderStore(cfg: ModelConfig, seed: number): ParamStore {
  const store = new ParamStore(seed);
  declareDecoder(store, cfg, 'dec');
  declareDecoder(store, cfg, 'decAux');
  return store;
}

/** Trained weights are not the near-zero initial ones: spread every value so the layers do real work. */
function spread(arrays: Record<string, NamedArray>): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [name, { shape, data }] of Object.entries(arrays)) {
    out[name] = { shape, data: data.map((v, i) => v * 10 + (name.endsWith('.bias') ? 0.1 * Math.sin(i) : 0)) };
  }
  return out;
}

describe.each(['nearest', 'transpose'] as UpsampleMode[])('%s upsampling', (upsample) => {
  const narrow: ModelConfig = { ...presetConfig('tiny'), upsample, decoderWidth: 1 };
  const wide: ModelConfig = { ...narrow, decoderWidth: 3 };
  const latent = tf.randomNormal([1, 6, 6, latentChannels(narrow).total], 0, 1, 'float32', 3) as tf.Tensor4D;
  const colour = colourStats(tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 5) as tf.Tensor4D);

  it('renders the same image from the widened weights', () => {
    const trained = decoderStore(narrow, 1);
    const weights = spread(trained.toNamedArrays());
    trained.load(weights);
    const widened = decoderStore(wide, 2);
    widened.load(widenDecoders(weights, 3, upsample, 7));
    for (const prefix of ['dec', 'decAux'] as const) {
      const before = decode(trained, narrow, prefix, latent, colour);
      const after = decode(widened, wide, prefix, latent, colour);
      expect(after.shape).toEqual(before.shape);
      const worst = tf.max(tf.abs(tf.sub(before, after))).dataSync()[0];
      expect(worst).toBeLessThan(1e-4);
      // The image is not flat: equality above is not two constant outputs agreeing.
      expect(tf.moments(before).variance.dataSync()[0]).toBeGreaterThan(1e-3);
    }
    // The random widening of a different decoder (other weights) renders something else.
    const other = decoderStore(narrow, 9);
    const otherWide = decoderStore(wide, 2);
    otherWide.load(widenDecoders(spread(other.toNamedArrays()), 3, upsample, 7));
    const differs = tf.max(
      tf.abs(tf.sub(decode(otherWide, wide, 'dec', latent, colour), decode(trained, narrow, 'dec', latent, colour))),
    );
    expect(differs.dataSync()[0]).toBeGreaterThan(1e-2);
  });

  it('splits each read of a copied channel unevenly between the copies', () => {
    const weights = spread(decoderStore(narrow, 1).toNamedArrays());
    const widened = widenDecoders(weights, 2, upsample, 7);
    const original = defined(weights['dec.out.weight'], 'dec.out.weight');
    const split = defined(widened['dec.out.weight'], 'widened dec.out.weight');
    const [kh, kw, c] = original.shape as [number, number, number, number];
    expect(split.shape).toEqual([kh, kw, 2 * c, 3]);
    // Element (0, 0, i, o) and its copy (0, 0, i + c, o): they sum to the original, and are not halves.
    let uneven = 0;
    for (let i = 0; i < c; i++) {
      for (let o = 0; o < 3; o++) {
        const a = defined(split.data[i * 3 + o], 'a split weight');
        const b = defined(split.data[(i + c) * 3 + o], 'its copy');
        expect(a + b).toBeCloseTo(defined(original.data[i * 3 + o], 'the original weight'), 5);
        if (Math.abs(a - b) > 1e-3 * Math.abs(a + b)) uneven++;
      }
    }
    expect(uneven).toBe(c * 3);
    // Biases of the repeated channels are copies; parameters outside the upsampling path are untouched.
    const bias = defined(widened['dec.up2.bias'], 'widened dec.up2.bias');
    const ownBias = defined(weights['dec.up2.bias'], 'dec.up2.bias');
    expect([...bias.data]).toEqual([...ownBias.data, ...ownBias.data]);
    expect(widened['dec.merge.weight']).toBe(weights['dec.merge.weight']);
  });
});

it('refuses weights without a decoder and factors that are not whole', () => {
  const weights = decoderStore({ ...presetConfig('tiny'), decoderWidth: 1 }, 1).toNamedArrays();
  expect(() => widenDecoders(weights, 1.5, 'nearest', 1)).toThrow('positive integer, got 1.5');
  const { ['decAux.up1.weight']: _dropped, ...withoutAux } = weights;
  expect(() => widenDecoders(withoutAux, 2, 'nearest', 1)).toThrow('no "decAux.up1.weight" to widen');
});
