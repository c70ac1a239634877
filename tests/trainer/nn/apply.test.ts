/**
 * Checks each layer kind of the spec against values worked out by hand (or by a naive loop written
 * straight from PyTorch's definition), that gradients reach every parameter, that the forward pass
 * leaks no tensors, and that the wasm backend computes the same forward pass as the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core ships its gradients apart from the ops; the training backend registers them the same way.
import { registerCoreGradients } from '../../../trainer/backend';

import { applyLayers, declareLayers, INIT_STD, PRELU_INIT, traceActivationInputs } from '../../../trainer/nn/apply';
import { ParamStore } from '../../../trainer/nn/params';
import { countParams, layerFlops, outputShape } from '../../../trainer/nn/shape';
import { INSTANCE_NORM_EPS, type Layer } from '../../../trainer/nn/spec';
import { pad2d } from '../../../trainer/layers/pad';
import { at, defined } from '../../support/checked';

beforeAll(async () => {
  registerCoreGradients();
  await tf.setBackend('cpu');
});

/** Declares `layers` in a fresh store and overwrites the named parameters with given values. */
function storeWith(layers: Layer[], values: Record<string, number[]> = {}): ParamStore {
  const store = new ParamStore(7);
  declareLayers(store, layers);
  for (const [name, data] of Object.entries(values)) {
    const v = store.get(name);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
  }
  return store;
}

/** Runs the layers on an [1, H, W, 1] grid and returns the output as nested rows (single channel). */
function run1(store: ParamStore, layers: Layer[], rows: number[][]): number[][] {
  const x = tf.tensor4d(rows.flat(), [1, rows.length, at(rows, 0).length, 1]);
  const y = applyLayers(store, layers, x);
  const out = at(y.arraySync() as number[][][][], 0).map((r) => r.map((c) => at(c, 0)));
  tf.dispose([x, y]);
  return out;
}

function expectClose(actual: number[][], expected: number[][], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    const want = at(expected, i);
    expect(row.length).toBe(want.length);
    row.forEach((v, j) => expect(v).toBeCloseTo(at(want, j), digits));
  });
}

const conv1x1 = (padding: number, padMode: 'reflect' | 'zero'): Layer => ({
  kind: 'conv2d',
  name: 'p',
  inChannels: 1,
  outChannels: 1,
  kernel: 1,
  stride: 1,
  padding,
  padMode,
});

describe('conv2d', () => {
  const grid = [
    [1, 2, 3],
    [4, 5, 6],
  ];

  test('reflection padding mirrors without repeating the edge', () => {
    // An identity 1×1 conv exposes the padded input.
    const layers = [conv1x1(1, 'reflect')];
    const store = storeWith(layers, { 'p.weight': [1], 'p.bias': [0] });
    expectClose(run1(store, layers, grid), [
      [5, 4, 5, 6, 5],
      [2, 1, 2, 3, 2],
      [5, 4, 5, 6, 5],
      [2, 1, 2, 3, 2],
    ]);
    store.dispose();
  });

  test('reflection padding passes back the gradient of every copy of a pixel', () => {
    // A row [a b c] padded by 1 is [b a b c b]; with column weights w, d/da = w1, d/db = w0 + w2 + w4,
    // d/dc = w3. Two rows padded by 1 along H become [row 1, row 0, row 1, row 0]: each row twice.
    const w = [1, 10, 100, 1000, 10000];
    const grad = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(pad2d(x as tf.Tensor4D, 1, 'reflect'), tf.tensor4d([...w, ...w, ...w, ...w], [1, 4, 5, 1]))),
    );
    const g = grad(tf.ones([1, 2, 3, 1])).dataSync();
    expect(Array.from(g)).toEqual([20, 20202, 2000, 20, 20202, 2000]);
  });

  test('reflection padding has the gradient of an index-gather reflection on a larger grid', () => {
    const reflectIndex = (n: number, p: number) =>
      Array.from({ length: n + 2 * p }, (_, i) => Math.abs(i - p) - 2 * Math.max(0, i - p - (n - 1)));
    const [h, w, p] = [7, 6, 3];
    const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const weights = tf.randomNormal([2, h + 2 * p, w + 2 * p, 3], 0, 1, 'float32', 2);
    const viaPad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pad2d(t as tf.Tensor4D, p, 'reflect'), weights)))(x);
    const viaGather = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(tf.gather(t, reflectIndex(h, p), 1), reflectIndex(w, p), 2), weights)),
    )(x);
    // The gather form is also the forward reference.
    expect(
      tf
        .max(
          tf.abs(tf.sub(pad2d(x, p, 'reflect'), tf.gather(tf.gather(x, reflectIndex(h, p), 1), reflectIndex(w, p), 2))),
        )
        .dataSync()[0],
    ).toBe(0);
    expect(tf.max(tf.abs(tf.sub(viaPad, viaGather))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, weights, viaPad, viaGather]);
  });

  test('zero padding adds a border of zeros', () => {
    const layers = [conv1x1(1, 'zero')];
    const store = storeWith(layers, { 'p.weight': [1], 'p.bias': [0] });
    expectClose(run1(store, layers, grid), [
      [0, 0, 0, 0, 0],
      [0, 1, 2, 3, 0],
      [0, 4, 5, 6, 0],
      [0, 0, 0, 0, 0],
    ]);
    store.dispose();
  });

  test('a stride-2 3×3 conv with zero padding 1 sums each window and adds the bias', () => {
    const layers: Layer[] = [
      { kind: 'conv2d', name: 'c', inChannels: 1, outChannels: 1, kernel: 3, stride: 2, padding: 1, padMode: 'zero' },
    ];
    const store = storeWith(layers, { 'c.weight': Array<number>(9).fill(1), 'c.bias': [0.5] });
    const x = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    // Windows are centred on pixels (0,0), (0,2), (2,0), (2,2); the padding contributes zeros.
    expectClose(run1(store, layers, x), [
      [1 + 2 + 4 + 5 + 0.5, 2 + 3 + 5 + 6 + 0.5],
      [4 + 5 + 7 + 8 + 0.5, 5 + 6 + 8 + 9 + 0.5],
    ]);
    store.dispose();
  });

  test('reflection padding refuses an input no larger than the padding', () => {
    const layers = [conv1x1(2, 'reflect')];
    const store = storeWith(layers);
    expect(() => run1(store, layers, [[1, 2]])).toThrow(/Reflection padding 2/);
    expect(() => outputShape(layers, [1, 1, 2, 1])).toThrow(/reflection padding 2/);
    store.dispose();
  });

  test('a wrong channel count names the layer', () => {
    const layers = [conv1x1(0, 'zero')];
    const store = storeWith(layers);
    const x = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expect(() => applyLayers(store, layers, x)).toThrow('Layer "p" expects 1 input channels, got 3');
    expect(() => outputShape(layers, [1, 2, 2, 3])).toThrow('Layer "p" expects 1 input channels, got 3');
    x.dispose();
    store.dispose();
  });
});

describe('convTranspose2d', () => {
  const up: Layer = {
    kind: 'convTranspose2d',
    name: 'u',
    inChannels: 1,
    outChannels: 1,
    kernel: 4,
    stride: 2,
    padding: 1,
  };

  test('places the kernel without flipping it, at stride offsets, cropped by the padding', () => {
    const kernel = Array.from({ length: 16 }, (_, i) => i + 1); // row-major 4×4: 1..16
    const store = storeWith([up], { 'u.weight': kernel, 'u.bias': [0] });
    // Only input pixel (1,1) is set, so the full 6×6 output holds the kernel at rows/cols 2..5;
    // cropping 1 pixel per side leaves kernel rows/cols 0..2 at output rows/cols 1..3.
    expectClose(
      run1(
        store,
        [up],
        [
          [0, 0],
          [0, 1],
        ],
      ),
      [
        [0, 0, 0, 0],
        [0, 1, 2, 3],
        [0, 5, 6, 7],
        [0, 9, 10, 11],
      ],
    );
    store.dispose();
  });

  test('sums overlapping contributions and adds the bias (out = (2 − 1)·2 − 2 + 4 = 4)', () => {
    const store = storeWith([up], { 'u.weight': Array<number>(16).fill(1), 'u.bias': [0.5] });
    // With a ones kernel, output row 1 sees input row 0 only, rows 2–3 see both, row 4 sees row 1 only;
    // the same holds for columns.
    const x = [
      [1, 2],
      [3, 4],
    ];
    expectClose(run1(store, [up], x), [
      [1.5, 3.5, 3.5, 2.5],
      [4.5, 10.5, 10.5, 6.5],
      [4.5, 10.5, 10.5, 6.5],
      [3.5, 7.5, 7.5, 4.5],
    ]);
    expect(outputShape([up], [1, 2, 2, 1])).toEqual([1, 4, 4, 1]);
    store.dispose();
  });

  test('matches a naive scatter loop over several channels', () => {
    const layer: Layer = {
      kind: 'convTranspose2d',
      name: 'u',
      inChannels: 2,
      outChannels: 3,
      kernel: 4,
      stride: 2,
      padding: 1,
    };
    const store = storeWith([layer], { 'u.bias': [0.1, -0.2, 0.3] });
    const [h, w, k, s, p] = [3, 2, 4, 2, 1];
    const x = tf.randomNormal([1, h, w, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = applyLayers(store, [layer], x);
    const xs = x.bufferSync(); // [1, h, w, in]
    const wt = store.get('u.weight').bufferSync(); // [k, k, out, in]
    const bias = [0.1, -0.2, 0.3];
    const [oh, ow] = [(h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k];
    const ref = tf.buffer([oh, ow, 3]);
    for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) bias.forEach((b, o) => ref.set(b, r, c, o));
    // PyTorch: out[i·s − p + ki, j·s − p + kj, o] += x[i, j, c] · W[c, o, ki, kj].
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let ki = 0; ki < k; ki++)
          for (let kj = 0; kj < k; kj++) {
            const [r, c] = [i * s - p + ki, j * s - p + kj];
            if (r < 0 || r >= oh || c < 0 || c >= ow) continue;
            for (let o = 0; o < 3; o++)
              for (let ci = 0; ci < 2; ci++)
                ref.set(ref.get(r, c, o) + xs.get(0, i, j, ci) * wt.get(ki, kj, o, ci), r, c, o);
          }
    expect(y.shape).toEqual([1, oh, ow, 3]);
    const got = y.bufferSync();
    for (let r = 0; r < oh; r++)
      for (let c = 0; c < ow; c++)
        for (let o = 0; o < 3; o++) expect(got.get(0, r, c, o)).toBeCloseTo(ref.get(r, c, o), 5);
    tf.dispose([x, y]);
    store.dispose();
  });
});

describe('normalisation and activations', () => {
  test('instance norm gives each sample and channel zero mean and unit (biased) variance', () => {
    const layers: Layer[] = [{ kind: 'instanceNorm', eps: INSTANCE_NORM_EPS }];
    const store = storeWith(layers);
    const x = tf.add(
      tf.mul(tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 11), tf.tensor1d([1, 3, 10])),
      tf.tensor1d([-2, 0, 7]),
    ) as tf.Tensor4D;
    const y = applyLayers(store, layers, x);
    const { mean, variance } = tf.moments(y, [1, 2]);
    for (const m of mean.dataSync()) expect(m).toBeCloseTo(0, 5);
    // With eps = 1e-5 the variance falls just short of 1: σ²/(σ² + eps).
    for (const v of variance.dataSync()) expect(v).toBeCloseTo(1, 3);
    tf.dispose([x, y, mean, variance]);
    store.dispose();
  });

  test('instance norm of [1, 3] is [−1, 1] scaled by 1/√(1 + eps)', () => {
    const layers: Layer[] = [{ kind: 'instanceNorm', eps: 0.25 }];
    const store = storeWith(layers);
    // mean 2, biased variance 1, so (x − 2)/√1.25.
    expectClose(run1(store, layers, [[1, 3]]), [[-1 / Math.sqrt(1.25), 1 / Math.sqrt(1.25)]]);
    store.dispose();
  });

  test('PReLU starts at slope 0.25 and follows its learned slope', () => {
    const layers: Layer[] = [{ kind: 'prelu', name: 'a' }];
    const store = storeWith(layers);
    expect(store.get('a.alpha').dataSync()[0]).toBeCloseTo(PRELU_INIT);
    expectClose(run1(store, layers, [[-2, -1, 0, 3]]), [[-0.5, -0.25, 0, 3]]);
    tf.tidy(() => store.get('a.alpha').assign(tf.tensor1d([0.1])));
    expectClose(run1(store, layers, [[-2, -1, 0, 3]]), [[-0.2, -0.1, 0, 3]]);
    store.dispose();
  });

  test('relu, leaky relu, tanh and spatial mean', () => {
    const store = storeWith([]);
    const row = [[-2, -0.5, 0, 1.5]];
    expectClose(run1(store, [{ kind: 'relu' }], row), [[0, 0, 0, 1.5]]);
    expectClose(run1(store, [{ kind: 'leakyRelu', alpha: 0.2 }], row), [[-0.4, -0.1, 0, 1.5]]);
    expectClose(run1(store, [{ kind: 'tanh' }], row), [at(row, 0).map(Math.tanh)]);
    expectClose(
      run1(
        store,
        [{ kind: 'spatialMean' }],
        [
          [1, 2],
          [3, 6],
        ],
      ),
      [[3]],
    );
    expect(outputShape([{ kind: 'spatialMean' }], [2, 7, 5, 4])).toEqual([2, 1, 1, 4]);
    store.dispose();
  });

  test('a residual block adds its body to the input', () => {
    const layers: Layer[] = [{ kind: 'residual', body: [conv1x1(0, 'zero')] }];
    const store = storeWith(layers, { 'p.weight': [2], 'p.bias': [1] });
    // x + (2x + 1)
    expectClose(run1(store, layers, [[-1, 0, 2]]), [[-2, 1, 7]]);
    store.dispose();
  });
});

/** One of every parameterised kind, in an order where no gradient is structurally zero. */
const everyKind: Layer[] = [
  { kind: 'conv2d', name: 'a', inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, padMode: 'reflect' },
  { kind: 'instanceNorm', eps: INSTANCE_NORM_EPS },
  { kind: 'prelu', name: 'act' },
  {
    kind: 'residual',
    body: [
      {
        kind: 'conv2d',
        name: 'r',
        inChannels: 3,
        outChannels: 3,
        kernel: 3,
        stride: 1,
        padding: 1,
        padMode: 'reflect',
      },
      { kind: 'instanceNorm', eps: INSTANCE_NORM_EPS },
      { kind: 'prelu', name: 'ract' },
    ],
  },
  { kind: 'convTranspose2d', name: 'u', inChannels: 3, outChannels: 2, kernel: 4, stride: 2, padding: 1 },
  { kind: 'leakyRelu', alpha: 0.2 },
  { kind: 'conv2d', name: 'd', inChannels: 2, outChannels: 2, kernel: 4, stride: 2, padding: 2, padMode: 'zero' },
  { kind: 'tanh' },
];

describe('parameters, gradients and memory', () => {
  test('declares N(0, 0.02) weights, zero biases, and as many scalars as countParams says', () => {
    const store = storeWith(everyKind);
    expect(store.names().sort()).toEqual(
      [
        'a.weight',
        'a.bias',
        'act.alpha',
        'r.weight',
        'r.bias',
        'ract.alpha',
        'u.weight',
        'u.bias',
        'd.weight',
        'd.bias',
      ].sort(),
    );
    expect(store.get('a.weight').shape).toEqual([3, 3, 2, 3]);
    expect(store.get('u.weight').shape).toEqual([4, 4, 2, 3]); // [k, k, out, in]
    expect(store.count()).toBe(countParams(everyKind));
    const big = new ParamStore(3);
    declareLayers(big, [
      { kind: 'conv2d', name: 'w', inChannels: 32, outChannels: 32, kernel: 3, stride: 1, padding: 0, padMode: 'zero' },
    ]);
    const { mean, variance } = tf.moments(big.get('w.weight'));
    expect(mean.dataSync()[0]).toBeCloseTo(0, 2);
    expect(Math.sqrt(at(variance.dataSync(), 0))).toBeCloseTo(INIT_STD, 2);
    expect(Array.from(big.get('w.bias').dataSync()).every((b) => b === 0)).toBe(true);
    tf.dispose([mean, variance]);
    big.dispose();
    store.dispose();
  });

  test('gradients reach every parameter', () => {
    const store = storeWith(everyKind);
    const x = tf.randomNormal([2, 6, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const probe = tf.randomNormal(outputShape(everyKind, [2, 6, 5, 2]), 0, 1, 'float32', 2);
    const variables = store.trainable();
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(applyLayers(store, everyKind, x), probe)) as tf.Scalar,
      variables,
    );
    expect(Object.keys(grads)).toHaveLength(variables.length);
    for (const v of variables) {
      const g = defined(grads[v.name], `the gradient of ${v.name}`);
      expect(g.shape).toEqual(v.shape);
      expect(tf.sum(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    }
    tf.dispose([x, probe, value, ...Object.values(grads)]);
    store.dispose();
  });

  test('the forward pass leaks no intermediates', () => {
    const store = storeWith(everyKind);
    const x = tf.randomNormal([1, 8, 8, 2]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      applyLayers(store, everyKind, x);
    });
    expect(tf.memory().numTensors).toBe(before);
    const y = applyLayers(store, everyKind, x);
    expect(tf.memory().numTensors).toBe(before + 1); // only the output survives
    tf.dispose([x, y]);
    store.dispose();
  });

  test('a trace sees the input of every activation, residual bodies included, and ends with its function', () => {
    const store = storeWith(everyKind);
    const x = tf.randomNormal([2, 6, 5, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const seen: { list: readonly Layer[]; index: number; values: Float32Array }[] = [];
    const traced = traceActivationInputs(
      (list, index, input) => seen.push({ list, index, values: Float32Array.from(input.dataSync() as Float32Array) }),
      () => applyLayers(store, everyKind, x),
    );
    const residual = everyKind[3] as Extract<Layer, { kind: 'residual' }>;
    expect(
      seen.map(({ list, index }) => [list === everyKind ? 'top' : list === residual.body ? 'body' : '?', index]),
    ).toEqual([
      ['top', 2],
      ['body', 2],
      ['top', 5],
    ]);
    // Each recorded input is what the layers before the activation compute.
    const expected = tf.tidy(() =>
      [
        applyLayers(store, everyKind.slice(0, 2), x),
        applyLayers(store, residual.body.slice(0, 2), applyLayers(store, everyKind.slice(0, 3), x)),
        applyLayers(store, everyKind.slice(0, 5), x),
      ].map((t) => Array.from(t.dataSync())),
    );
    expected.forEach((values, i) => expect(Array.from(at(seen, i).values)).toEqual(values));
    // Tracing changes nothing, and stops when the function returns.
    const plain = applyLayers(store, everyKind, x);
    expect(Array.from(traced.dataSync())).toEqual(Array.from(plain.dataSync()));
    expect(seen).toHaveLength(3);
    tf.dispose([x, traced, plain]);
    store.dispose();
  });

  test('layerFlops counts 2·k²·Cin·Cout per output pixel of a conv and per input pixel of a transposed conv', () => {
    const convLayer: Layer = {
      kind: 'conv2d',
      name: 'c',
      inChannels: 2,
      outChannels: 4,
      kernel: 3,
      stride: 1,
      padding: 1,
      padMode: 'zero',
    };
    expect(layerFlops([convLayer], [1, 8, 8, 2])).toBe(2 * 8 * 8 * 9 * 2 * 4);
    const upLayer: Layer = {
      kind: 'convTranspose2d',
      name: 'u',
      inChannels: 4,
      outChannels: 2,
      kernel: 4,
      stride: 2,
      padding: 1,
    };
    expect(layerFlops([upLayer], [3, 5, 5, 4])).toBe(2 * 3 * 5 * 5 * 16 * 4 * 2);
    const square: Layer = { ...convLayer, outChannels: 2 };
    expect(layerFlops([{ kind: 'residual', body: [square, square] }], [1, 8, 8, 2])).toBe(2 * (2 * 8 * 8 * 9 * 2 * 2));
  });
});

describe('backends', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test('the wasm forward pass matches the cpu one', async () => {
    const outputs: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      // Weights are seeded per name, so both stores start equal.
      const store = new ParamStore(5);
      declareLayers(store, everyKind);
      const x = tf.randomNormal([1, 8, 6, 2], 0, 1, 'float32', 9) as tf.Tensor4D;
      const y = applyLayers(store, everyKind, x);
      outputs.push((await y.data()) as Float32Array);
      tf.dispose([x, y]);
      store.dispose();
    }
    const [cpu, wasm] = [at(outputs, 0), at(outputs, 1)];
    expect(wasm.length).toBe(cpu.length);
    const maxDiff = cpu.reduce((m, v, i) => Math.max(m, Math.abs(v - at(wasm, i))), 0);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
