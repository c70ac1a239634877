/**
 * Per-layer parity: each layer kind is exported, run in onnxruntime-node, and compared with TF.js
 * computing the same thing from tfjs-core ops directly (not through the project's forward pass), so a
 * mistake shared by both consumers of the layer list would still show here.
 */
import * as tf from '@tensorflow/tfjs-core';

import { layersToOnnx } from '../../../trainer/export/layers-to-onnx';
import { decodeModel } from '../../../trainer/export/onnx-proto';
import type { NamedArray } from '../../../trainer/nn/params';
import { registerCoreGradients } from '../../../trainer/backend';
import { upsampleNearest } from '../../../trainer/nn/apply';
import type { Layer } from '../../../trainer/nn/spec';
import { at, defined } from '../../support/checked';
import {
  maxAbsDiff,
  randomArray,
  runExported,
  tfCompute,
  TOLERANCE,
  useCpuBackend,
} from '../../support/export-helpers';

beforeAll(useCpuBackend);

const X = (): NamedArray => randomArray([2, 9, 11, 3], 7); // odd, non-square sizes expose off-by-one padding

function convParams(name: string, k: number, cin: number, cout: number, seed: number): Record<string, NamedArray> {
  return {
    [`${name}.weight`]: randomArray([k, k, cin, cout], seed, 0.3),
    [`${name}.bias`]: randomArray([cout], seed + 1, 0.5),
  };
}

/** A parameter the test made itself, by name. */
const param = (params: Record<string, NamedArray>, name: string): NamedArray =>
  defined(params[name], `parameter ${name}`);

const t4 = (a: NamedArray): tf.Tensor4D => tf.tensor4d(a.data, a.shape as [number, number, number, number]);
const t1 = (a: NamedArray): tf.Tensor1D => tf.tensor1d(a.data);

/** Op types of the model the layers export to (NHWC boundary). */
function opTypes(params: Record<string, NamedArray>, layers: Layer[], inChannels: number): string[] {
  const model = decodeModel(layersToOnnx(params, layers, { inChannels, layout: 'nhwc' }).bytes);
  return (model.graph?.node ?? []).map((n) => n.opType ?? '');
}

describe('conv2d', () => {
  const cases: {
    label: string;
    k: number;
    stride: number;
    padding: number;
    padMode: 'reflect' | 'zero';
    cout: number;
  }[] = [
    { label: '7×7 reflect pad 3', k: 7, stride: 1, padding: 3, padMode: 'reflect', cout: 4 },
    { label: '3×3 stride 2 zero pad 1', k: 3, stride: 2, padding: 1, padMode: 'zero', cout: 5 },
    { label: '4×4 stride 2 zero pad 2 (discriminator)', k: 4, stride: 2, padding: 2, padMode: 'zero', cout: 2 },
    { label: '1×1', k: 1, stride: 1, padding: 0, padMode: 'zero', cout: 6 },
  ];
  test.each(cases)('$label matches tf.conv2d', async ({ k, stride, padding, padMode, cout }) => {
    const x = X();
    const params = convParams('c', k, 3, cout, 11);
    const layers: Layer[] = [
      { kind: 'conv2d', name: 'c', inChannels: 3, outChannels: cout, kernel: k, stride, padding, padMode },
    ];
    const expected = tfCompute(x, (input) => {
      const spec: [number, number][] = [
        [0, 0],
        [padding, padding],
        [padding, padding],
        [0, 0],
      ];
      const padded = padMode === 'reflect' ? tf.mirrorPad(input, spec, 'reflect') : tf.pad(input, spec);
      return tf.add(tf.conv2d(padded, t4(param(params, 'c.weight')), stride, 'valid'), t1(param(params, 'c.bias')));
    });
    const { output } = await runExported(params, layers, x);
    expect(output.dims).toEqual(expected.shape);
    expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
    // Reflection needs a Pad node; zero padding folds into the Conv.
    expect(opTypes(params, layers, 3).includes('Pad')).toBe(padMode === 'reflect' && padding > 0);
  });

  test('an NCHW boundary gives the same numbers, transposed', async () => {
    const x = X();
    const params = convParams('c', 3, 3, 4, 3);
    const layers: Layer[] = [
      {
        kind: 'conv2d',
        name: 'c',
        inChannels: 3,
        outChannels: 4,
        kernel: 3,
        stride: 1,
        padding: 1,
        padMode: 'reflect',
      },
    ];
    const nchwInput = tfCompute(x, (input) => tf.transpose(input, [0, 3, 1, 2]));
    const expected = tfCompute(x, (input) =>
      tf.transpose(
        tf.add(
          tf.conv2d(
            tf.mirrorPad(
              input,
              [
                [0, 0],
                [1, 1],
                [1, 1],
                [0, 0],
              ],
              'reflect',
            ),
            t4(param(params, 'c.weight')),
            1,
            'valid',
          ),
          t1(param(params, 'c.bias')),
        ),
        [0, 3, 1, 2],
      ),
    );
    const { output } = await runExported(params, layers, nchwInput, { layout: 'nchw', inChannels: 3 });
    expect(output.dims).toEqual(expected.shape);
    expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
  });
});

describe('convTranspose2d', () => {
  test('4×4 stride 2 pad 1 matches tf.conv2dTranspose and the definition of PyTorch ConvTranspose2d', async () => {
    const [b, h, w, cin] = [2, 5, 6, 3];
    const x = randomArray([b, h, w, cin], 5);
    const [k, s, p, cout] = [4, 2, 1, 4];
    const weight = randomArray([k, k, cout, cin], 21, 0.3); // TF.js layout [k, k, out, in]
    const bias = randomArray([cout], 22, 0.5);
    const params = { 'up.weight': weight, 'up.bias': bias };
    const layers: Layer[] = [
      { kind: 'convTranspose2d', name: 'up', inChannels: cin, outChannels: cout, kernel: k, stride: s, padding: p },
    ];
    const [oh, ow] = [(h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k];
    const viaTf = tfCompute(x, (input) =>
      tf.add(tf.conv2dTranspose(input, t4(weight), [b, oh, ow, cout], s, p), t1(bias)),
    );

    // The definition: every input pixel scatters its kernel-weighted value to out = in·stride − padding + tap.
    const byDefinition = new Float32Array(b * oh * ow * cout);
    for (let n = 0; n < b; n++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let o = 0; o < cout; o++) byDefinition[((n * oh + y) * ow + xx) * cout + o] = at(bias.data, o);
    for (let n = 0; n < b; n++)
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < w; ix++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const [y, xx] = [iy * s - p + ky, ix * s - p + kx];
              if (y < 0 || y >= oh || xx < 0 || xx >= ow) continue;
              for (let i = 0; i < cin; i++)
                for (let o = 0; o < cout; o++) {
                  const out = ((n * oh + y) * ow + xx) * cout + o;
                  byDefinition[out] =
                    at(byDefinition, out) +
                    at(x.data, ((n * h + iy) * w + ix) * cin + i) *
                      at(weight.data, ((ky * k + kx) * cout + o) * cin + i);
                }
            }

    const { output } = await runExported(params, layers, x);
    expect(output.dims).toEqual([b, oh, ow, cout]);
    expect(maxAbsDiff(viaTf.data, byDefinition)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(output.data, viaTf.data)).toBeLessThan(TOLERANCE);
  });
});

describe('instanceNorm', () => {
  // A large offset and scale per channel make a wrong axis or a missing centring obvious.
  const shifted = (): NamedArray => {
    const x = randomArray([2, 6, 7, 5], 9);
    x.data.forEach((v, i) => (x.data[i] = v * (1 + (i % 5)) + 3 * (i % 5)));
    return x;
  };
  const layers: Layer[] = [{ kind: 'instanceNorm', eps: 1e-5 }];
  const reference = (x: NamedArray): NamedArray =>
    tfCompute(x, (input) => {
      const { mean, variance } = tf.moments(input, [1, 2], true);
      return tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, 1e-5)));
    });

  test.each(['builtin', 'explicit'] as const)('%s form matches tf.moments normalisation', async (mode) => {
    const x = shifted();
    const { output } = await runExported({}, layers, x, { instanceNorm: mode });
    expect(maxAbsDiff(output.data, reference(x).data)).toBeLessThan(TOLERANCE);
  });

  test('explicit form publishes the statistics it used', async () => {
    const x = shifted();
    const exported = layersToOnnx({}, layers, {
      inChannels: 5,
      layout: 'nhwc',
      instanceNorm: 'explicit',
      exposeStatistics: true,
    });
    expect(exported.statistics).toEqual([{ mean: 'norm0.mean', variance: 'norm0.var', channels: 5 }]);
    const outputs = await runExported({}, layers, x, { instanceNorm: 'explicit', exposeStatistics: true });
    const stats = tfCompute(x, (input) => {
      const { mean, variance } = tf.moments(input, [1, 2], true);
      return tf.concat([tf.transpose(mean, [0, 3, 1, 2]), tf.transpose(variance, [0, 3, 1, 2])], 1);
    }); // [2, 10, 1, 1]: 5 means then 5 variances per sample
    const perSample = (n: number, offset: number): number[] =>
      Array.from(stats.data.slice(n * 10 + offset, n * 10 + offset + 5));
    const mean = defined(outputs['norm0.mean'], 'output norm0.mean');
    const variance = defined(outputs['norm0.var'], 'output norm0.var');
    expect(mean.dims).toEqual([2, 5, 1, 1]);
    expect(maxAbsDiff(mean.data, [...perSample(0, 0), ...perSample(1, 0)])).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(variance.data, [...perSample(0, 5), ...perSample(1, 5)])).toBeLessThan(TOLERANCE * 10);
  });

  test('external form normalises with the statistics it is fed, not its own', async () => {
    const x = shifted();
    const mean = randomArray([2, 5, 1, 1], 31);
    const variance = randomArray([2, 5, 1, 1], 32);
    variance.data.forEach((v, i) => (variance.data[i] = 0.5 + v * v));
    const { output } = await runExported(
      {},
      layers,
      x,
      { instanceNorm: 'external' },
      {
        'norm0.mean': { data: mean.data, dims: mean.shape },
        'norm0.var': { data: variance.data, dims: variance.shape },
      },
    );
    const expected = tfCompute(x, (input) => {
      const m = tf.transpose(t4(mean), [0, 2, 3, 1]); // [2, 1, 1, 5]
      const v = tf.transpose(t4(variance), [0, 2, 3, 1]);
      return tf.div(tf.sub(input, m), tf.sqrt(tf.add(v, 1e-5)));
    });
    expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(output.data, reference(x).data)).toBeGreaterThan(0.1);
  });

  test('explicit statistics fed to the external form reproduce the whole-image result', async () => {
    const x = shifted();
    const first = await runExported({}, layers, x, { instanceNorm: 'explicit', exposeStatistics: true });
    const second = await runExported(
      {},
      layers,
      x,
      { instanceNorm: 'external' },
      {
        'norm0.mean': defined(first['norm0.mean'], 'output norm0.mean'),
        'norm0.var': defined(first['norm0.var'], 'output norm0.var'),
      },
    );
    expect(maxAbsDiff(second.output.data, first.output.data)).toBeLessThan(TOLERANCE);
  });

  test('builtin form uses InstanceNormalization, explicit form uses none', () => {
    expect(opTypes({}, layers, 5)).toContain('InstanceNormalization');
    const explicit = decodeModel(layersToOnnx({}, layers, { inChannels: 5, instanceNorm: 'explicit' }).bytes);
    expect((explicit.graph?.node ?? []).map((n) => n.opType)).toEqual([
      ...['ReduceMean', 'Sub', 'Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div'],
      'Identity', // publishes the result under the output's name
    ]);
  });

  test('exposing statistics without the explicit form is refused', () => {
    expect(() => layersToOnnx({}, layers, { inChannels: 5, exposeStatistics: true })).toThrow(
      /exposeStatistics needs instanceNorm: 'explicit'/,
    );
  });
});

describe('activations and reductions', () => {
  const x = (): NamedArray => randomArray([2, 4, 5, 3], 13, 2);

  test('prelu with its one shared slope matches tf.prelu', async () => {
    const alpha = { shape: [1], data: Float32Array.from([0.3]) };
    const { output } = await runExported({ 'p.alpha': alpha }, [{ kind: 'prelu', name: 'p' }], x());
    const expected = tfCompute(x(), (input) => tf.prelu<tf.Tensor>(input, tf.tensor1d(alpha.data)));
    expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
  });

  test('leakyRelu 0.2 matches tf.leakyRelu', async () => {
    const { output } = await runExported({}, [{ kind: 'leakyRelu', alpha: 0.2 }], x());
    expect(maxAbsDiff(output.data, tfCompute(x(), (input) => tf.leakyRelu(input, 0.2)).data)).toBeLessThan(TOLERANCE);
  });

  test('relu and tanh match tf.relu and tf.tanh', async () => {
    const { output } = await runExported({}, [{ kind: 'relu' }, { kind: 'tanh' }], x());
    expect(maxAbsDiff(output.data, tfCompute(x(), (input) => tf.tanh(tf.relu(input))).data)).toBeLessThan(TOLERANCE);
  });

  test('spatialMean keeps H and W as 1 and matches tf.mean', async () => {
    const { output } = await runExported({}, [{ kind: 'spatialMean' }], x());
    const expected = tfCompute(x(), (input) => tf.mean(input, [1, 2], true));
    expect(output.dims).toEqual([2, 1, 1, 3]);
    expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
  });
});

describe('upsampleNearest', () => {
  test('×2 copies each pixel into a 2×2 block in onnxruntime, the project forward pass and tf.image', async () => {
    const [b, h, w, c] = [2, 3, 5, 4];
    const x = randomArray([b, h, w, c], 17);
    const layers: Layer[] = [{ kind: 'upsampleNearest', factor: 2 }];
    // The definition: out[n, y, x, ch] = in[n, ⌊y/2⌋, ⌊x/2⌋, ch].
    const byDefinition = new Float32Array(b * 2 * h * 2 * w * c);
    for (let n = 0; n < b; n++)
      for (let y = 0; y < 2 * h; y++)
        for (let xx = 0; xx < 2 * w; xx++)
          for (let ch = 0; ch < c; ch++)
            byDefinition[((n * 2 * h + y) * 2 * w + xx) * c + ch] = at(
              x.data,
              ((n * h + Math.floor(y / 2)) * w + Math.floor(xx / 2)) * c + ch,
            );
    const viaTfImage = tfCompute(x, (input) => tf.image.resizeNearestNeighbor(input, [2 * h, 2 * w]));
    const viaForward = tfCompute(x, (input) => upsampleNearest(input, 2));
    const { output } = await runExported({}, layers, x);
    expect(output.dims).toEqual([b, 2 * h, 2 * w, c]);
    expect(maxAbsDiff(viaTfImage.data, byDefinition)).toBe(0);
    expect(maxAbsDiff(viaForward.data, byDefinition)).toBe(0);
    expect(maxAbsDiff(output.data, byDefinition)).toBe(0);
    expect(opTypes({}, layers, c)).toContain('Resize');
  });

  test("the forward pass's gradient sums each 2×2 block", () => {
    registerCoreGradients();
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const upstream = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(upsampleNearest(input as tf.Tensor4D, 2), upstream)))(x);
    // Block (0,0) holds upstream 0, 1, 4, 5 → 10; (0,1): 2, 3, 6, 7 → 18; (1,0): 8, 9, 12, 13 → 42; (1,1): 10, 11, 14, 15 → 50.
    expect(Array.from(grad.dataSync())).toEqual([10, 18, 42, 50]);
  });
});

describe('residual', () => {
  test('a stacked ResNet block (reflect pad, conv, IN, PReLU, conv, IN, skip) matches TF.js', async () => {
    const c = 4;
    const x = randomArray([1, 8, 9, c], 41);
    const conv = (name: string): Layer => ({
      kind: 'conv2d',
      name,
      inChannels: c,
      outChannels: c,
      kernel: 3,
      stride: 1,
      padding: 1,
      padMode: 'reflect',
    });
    const block = (i: number): Layer => ({
      kind: 'residual',
      body: [
        conv(`b${i}.c1`),
        { kind: 'instanceNorm', eps: 1e-5 },
        { kind: 'prelu', name: `b${i}.act` },
        conv(`b${i}.c2`),
        { kind: 'instanceNorm', eps: 1e-5 },
      ],
    });
    const params: Record<string, NamedArray> = {};
    for (const i of [0, 1]) {
      Object.assign(params, convParams(`b${i}.c1`, 3, c, c, 50 + 10 * i), convParams(`b${i}.c2`, 3, c, c, 55 + 10 * i));
      params[`b${i}.act.alpha`] = { shape: [1], data: Float32Array.from([0.25 - 0.1 * i]) };
    }
    const layers = [block(0), block(1)];
    const expected = tfCompute(x, (input) => {
      let h: tf.Tensor4D = input;
      for (const i of [0, 1]) {
        const convTf = (t: tf.Tensor4D, name: string): tf.Tensor4D =>
          tf.add(
            tf.conv2d(
              tf.mirrorPad(
                t,
                [
                  [0, 0],
                  [1, 1],
                  [1, 1],
                  [0, 0],
                ],
                'reflect',
              ),
              t4(param(params, `${name}.weight`)),
              1,
              'valid',
            ),
            t1(param(params, `${name}.bias`)),
          );
        const norm = (t: tf.Tensor4D): tf.Tensor4D => {
          const { mean, variance } = tf.moments(t, [1, 2], true);
          return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5)));
        };
        const body = norm(
          convTf(
            tf.prelu<tf.Tensor4D>(
              norm(convTf(h, `b${i}.c1`)),
              tf.tensor1d(param(params, `b${i}.act.alpha`).data) as tf.Tensor as tf.Tensor4D,
            ),
            `b${i}.c2`,
          ),
        );
        h = tf.add(h, body);
      }
      return h;
    });
    for (const mode of ['builtin', 'explicit'] as const) {
      const { output } = await runExported(params, layers, x, { instanceNorm: mode });
      expect(maxAbsDiff(output.data, expected.data)).toBeLessThan(TOLERANCE);
    }
    expect(opTypes(params, layers, c).filter((op) => op === 'Add')).toHaveLength(2);
  });
});

describe('parameter checks', () => {
  const layer: Layer = {
    kind: 'conv2d',
    name: 'c',
    inChannels: 3,
    outChannels: 4,
    kernel: 3,
    stride: 1,
    padding: 1,
    padMode: 'zero',
  };

  test('a missing weight is named', () => {
    expect(() => layersToOnnx({}, [layer], { inChannels: 3 })).toThrow(
      'Layer "c" needs parameter "c.weight", which the weights do not contain.',
    );
  });

  test('a weight of the wrong shape is named with both shapes', () => {
    const params = { ...convParams('c', 3, 3, 4, 1), 'c.weight': randomArray([3, 3, 4, 3], 2) };
    expect(() => layersToOnnx(params, [layer], { inChannels: 3 })).toThrow(
      'Parameter "c.weight" has shape [3, 3, 4, 3]; layer "c" needs [3, 3, 3, 4].',
    );
  });

  test('a channel mismatch between layers is refused', () => {
    expect(() => layersToOnnx(convParams('c', 3, 3, 4, 1), [layer], { inChannels: 5 })).toThrow(
      'Layer "c" expects 3 input channels, but receives 5.',
    );
  });
});
