/**
 * Whole-network parity: each TSPR convolutional network, built from its layer list with random weights
 * at the `tiny` preset, runs through the TF.js forward pass (applyLayers) and through its ONNX export in
 * onnxruntime-node; the outputs must agree within the exporter's tolerance. This is the proof that the
 * two consumers of one network description compute the same function.
 */
import * as tf from '@tensorflow/tfjs-core';

import { presetConfig } from '../../../trainer/config';
import { layersToOnnx, type InstanceNormMode } from '../../../trainer/export/layers-to-onnx';
import { applyLayers, declareLayers } from '../../../trainer/nn/apply';
import { ParamStore, type NamedArray } from '../../../trainer/nn/params';
import type { Layer } from '../../../trainer/nn/spec';
import { decoderLayers } from '../../../trainer/networks/decoder';
import { discriminatorLayers } from '../../../trainer/networks/discriminator';
import { encoderBodyLayers, encoderStemLayers } from '../../../trainer/networks/encoder';
import { globalStyleLayers } from '../../../trainer/networks/global-style';
import { defined } from '../../support/checked';
import { maxAbsDiff, randomArray, runExported, TOLERANCE, useCpuBackend } from '../../support/export-helpers';

const cfg = presetConfig('tiny');
const side = cfg.cropSize; // 32
const latent = 12 * cfg.ngf; // content | global style | local style

beforeAll(useCpuBackend);

/**
 * A store holding the layers' parameters, overwritten with random values: the official initialisation
 * (zero biases, slopes of 0.25, weights of std 0.02) would leave whole code paths numerically idle.
 */
function randomStore(layers: Layer[], seed: number): ParamStore {
  const store = new ParamStore(seed);
  declareLayers(store, layers);
  const values: Record<string, NamedArray> = {};
  store.names().forEach((name, i) => {
    const { shape } = store.get(name);
    values[name] = randomArray(
      [...shape],
      seed * 1000 + i,
      name.endsWith('.alpha') ? 0.1 : 0.2,
      name.endsWith('.alpha') ? 0.2 : 0,
    );
  });
  store.load(values);
  return store;
}

const networks: { label: string; layers: () => Layer[]; input: [number, number, number, number] }[] = [
  {
    label: 'encoder stem + body',
    layers: () => [...encoderStemLayers(cfg), ...encoderBodyLayers(cfg)],
    input: [2, side, side, 3],
  },
  { label: 'global style', layers: () => globalStyleLayers(cfg), input: [2, side / 4, side / 4, 4 * cfg.ngf] },
  { label: 'decoder', layers: () => decoderLayers(cfg, 'dec'), input: [1, side / 4, side / 4, latent] },
  { label: 'discriminator', layers: () => discriminatorLayers(cfg), input: [2, side, side, 6] },
];

describe.each(networks)('$label', ({ layers, input }) => {
  let store: ParamStore;
  let x: NamedArray;
  let expected: NamedArray;

  beforeAll(() => {
    store = randomStore(layers(), 3);
    x = randomArray(input, 17);
    expected = tf.tidy(() => {
      const y = applyLayers(store, layers(), tf.tensor4d(x.data, input));
      return { shape: [...y.shape], data: Float32Array.from(y.dataSync() as Float32Array) };
    });
  });
  afterAll(() => store.dispose());

  test.each(['builtin', 'explicit'] as InstanceNormMode[])(
    'onnxruntime matches applyLayers with %s instance norm',
    async (mode) => {
      const { output } = await runExported(store, layers(), x, { instanceNorm: mode });
      expect(output.dims).toEqual(expected.shape);
      expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
    },
  );

  test('whole-image statistics fed to the external form reproduce the output', async () => {
    const first = await runExported(store, layers(), x, { instanceNorm: 'explicit', exposeStatistics: true });
    const exported = layersToOnnx(store, layers(), { inChannels: input[3], instanceNorm: 'external' });
    const feeds = Object.fromEntries(
      exported.statistics.flatMap((s) => [
        [s.mean, defined(first[s.mean], `output ${s.mean}`)],
        [s.variance, defined(first[s.variance], `output ${s.variance}`)],
      ]),
    );
    const second = await runExported(store, layers(), x, { instanceNorm: 'external' }, feeds);
    expect(exported.statistics).toHaveLength(countNorms(layers()));
    expect(maxAbsDiff(second.output.data, expected.data)).toBeLessThan(TOLERANCE);
  });
});

/** Instance norms in the layers, residual bodies included. */
function countNorms(layers: Layer[]): number {
  return layers.reduce(
    (n, l) => n + (l.kind === 'instanceNorm' ? 1 : l.kind === 'residual' ? countNorms(l.body) : 0),
    0,
  );
}
