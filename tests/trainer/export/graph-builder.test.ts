/**
 * The graph builder and the onnxruntime doorway: models it writes load in onnxruntime-node at opset 17
 * and compute what the operators define; inconsistent graphs are refused while being built, with the
 * offending name in the message; and the session module reports bad models and bad feeds clearly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { closeSession, createSession, OnnxSessionError, run } from '../../../functions/engine/onnx-session';
import { attr, GraphBuildError, GraphBuilder } from '../../../trainer/export/graph-builder';
import { AttributeType, decodeModel } from '../../../trainer/export/onnx-proto';
import { at, defined } from '../../support/checked';

/** y = LeakyRelu(Conv1×1(x; weight 2, bias −1), 0.1) on one channel: a model small enough to check by hand. */
function affineLeaky(): GraphBuilder {
  const g = new GraphBuilder('affine');
  const x = g.input('x', ['batch', 1, 'h', 'w']);
  const w = g.floatInitializer('w', [1, 1, 1, 1], [2]);
  const b = g.floatInitializer('b', [1], [-1]);
  const conv = g.op('Conv', [x, w, b], { kernel_shape: attr.ints([1, 1]) });
  g.output(g.op('LeakyRelu', [conv], { alpha: attr.float(0.1) }), ['batch', 1, 'h', 'w'], 'y');
  return g;
}

describe('GraphBuilder', () => {
  test('writes an opset 17, IR 8 model that onnxruntime loads and runs', async () => {
    const bytes = affineLeaky().toBytes();
    const model = decodeModel(bytes);
    expect(model.irVersion).toBe(8);
    expect(model.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(model.producerName).toBe('peerstyle');

    const session = await createSession(bytes, { intraOpThreads: 1 });
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const input = [-2, -0.5, 0, 0.5, 1, 3];
    const { y } = await run(session, { x: { data: Float32Array.from(input), dims: [1, 1, 2, 3] } });
    await closeSession(session);
    const expected = input.map((v) => 2 * v - 1).map((v) => (v < 0 ? 0.1 * v : v));
    const output = defined(y, 'output y');
    expect(output.dims).toEqual([1, 1, 2, 3]);
    output.data.forEach((v, i) => expect(v).toBeCloseTo(at(expected, i), 6));
  });

  test('a reflect Pad with int64 pads runs as the ONNX spec defines', async () => {
    const g = new GraphBuilder('pad');
    const x = g.input('x', [1, 1, 1, 4]);
    const pads = g.int64Initializer('pads', [8], [0, 0, 0, 2, 0, 0, 0, 1]);
    g.output(g.op('Pad', [x, pads], { mode: attr.string('reflect') }), [1, 1, 1, 7], 'y');
    const session = await createSession(g.toBytes(), { intraOpThreads: 1 });
    const { y } = await run(session, { x: { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 1, 1, 4] } });
    await closeSession(session);
    expect(Array.from(defined(y, 'output y').data)).toEqual([3, 2, 1, 2, 3, 4, 3]);
  });

  test('an initializer whose data does not fit its dims is refused at build time', () => {
    const g = new GraphBuilder('bad');
    expect(() => g.floatInitializer('enc.pre.conv0.weight', [4, 3, 7, 7], new Float32Array(4 * 3 * 7 * 6))).toThrow(
      new GraphBuildError(
        'Initializer "enc.pre.conv0.weight" has dims [4, 3, 7, 7] (588 values) but 504 values were given.',
      ),
    );
    expect(() => g.int64Initializer('pads', [8], [0, 0, 1, 1])).toThrow(
      /"pads" has dims \[8\] \(8 values\) but 4 values/,
    );
    expect(() => g.floatInitializer('w', [2, -1], [1, 2])).toThrow(/invalid dims \[2, -1\]/);
  });

  test('a node reading a value nobody provides is refused at build time', () => {
    const g = new GraphBuilder('dangling');
    const x = g.input('x', [1]);
    expect(() => g.op('Add', [x, 'bias'], {}, 'plus')).toThrow(
      'Node "plus" (Add) reads "bias", which no graph input, initializer or earlier node provides.',
    );
  });

  test('names stay unique: colliding hints get suffixes, colliding graph inputs are refused', () => {
    const g = new GraphBuilder('names');
    const x = g.input('x', [2]);
    const a = g.op('Relu', [x], {}, 'act');
    const b = g.op('Relu', [a], {}, 'act');
    expect([a, b]).toEqual(['act', 'act_1']);
    expect(g.floatInitializer('act', [1], [0])).toBe('act_2');
    expect(() => g.input('x', [2])).toThrow('The graph input name "x" is already used in graph "names".');
    expect(() => g.toModel()).toThrow('Graph "names" has no outputs.');
  });

  test('every attribute kind is written with its ONNX type', () => {
    const g = new GraphBuilder('attrs');
    const x = g.input('x', [1]);
    g.output(
      g.op('Custom', [x], {
        i: attr.int(3),
        is: attr.ints([1, 2]),
        f: attr.float(0.5),
        fs: attr.floats([0.25, 2]),
        s: attr.string('reflect'),
        ss: attr.strings(['a', 'b']),
      }),
      [1],
    );
    const node = decodeModel(g.toBytes()).graph?.node?.[0];
    const byName = Object.fromEntries((node?.attribute ?? []).map((a) => [a.name, a]));
    expect(byName.i).toMatchObject({ type: AttributeType.INT, i: 3 });
    expect(byName.is).toMatchObject({ type: AttributeType.INTS, ints: [1, 2] });
    expect(byName.f).toMatchObject({ type: AttributeType.FLOAT, f: 0.5 });
    expect(byName.fs).toMatchObject({ type: AttributeType.FLOATS, floats: [0.25, 2] });
    expect(byName.s?.type).toBe(AttributeType.STRING);
    expect(Buffer.from(byName.s?.s ?? []).toString()).toBe('reflect');
    expect((byName.ss?.strings ?? []).map((b: Uint8Array) => Buffer.from(b).toString())).toEqual(['a', 'b']);
  });
});

describe('onnx-session', () => {
  test('a model onnxruntime cannot load is reported with its reason', async () => {
    const g = new GraphBuilder('unknown-op');
    g.output(g.op('NoSuchOperator', [g.input('x', [1])]), [1]);
    await expect(createSession(g.toBytes())).rejects.toThrow(OnnxSessionError);
    await expect(createSession(g.toBytes())).rejects.toThrow(
      /could not load the model \(\d+ bytes\): .*NoSuchOperator/,
    );
  });

  test('missing or unknown feeds and size mismatches are refused before running', async () => {
    const session = await createSession(affineLeaky().toBytes(), { intraOpThreads: 1 });
    try {
      await expect(run(session, { z: { data: new Float32Array(1), dims: [1, 1, 1, 1] } })).rejects.toThrow(
        "Feeds do not match the model's inputs [x]: missing [x], unknown [z].",
      );
      await expect(run(session, { x: { data: new Float32Array(3), dims: [1, 1, 2, 2] } })).rejects.toThrow(
        'Feed "x" has dims [1, 1, 2, 2] (4 values) but 3 values.',
      );
    } finally {
      await closeSession(session);
    }
  });

  test('a model can also be loaded from a file path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peerstyle-onnx-'));
    const path = join(dir, 'affine.onnx');
    writeFileSync(path, affineLeaky().toBytes());
    try {
      const session = await createSession(path, { intraOpThreads: 1 });
      const { y } = await run(session, { x: { data: Float32Array.from([2]), dims: [1, 1, 1, 1] } });
      await closeSession(session);
      expect(Array.from(defined(y, 'output y').data)).toEqual([3]);
      await expect(createSession(join(dir, 'missing.onnx'))).rejects.toThrow(
        /could not load the model file ".*missing\.onnx"/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a thread count below one is refused', async () => {
    await expect(createSession(affineLeaky().toBytes(), { intraOpThreads: 0 })).rejects.toThrow(
      'intraOpThreads must be a whole number ≥ 1, got 0.',
    );
  });
});
