/**
 * The profiling path of the stylisation benchmarks: a session opened with a profile prefix records every
 * node of every run, `endProfiling` names the file, and the reader turns it into runs whose nodes carry
 * the operator, the shapes and the FLOPs of those shapes, grouped as the benchmark reports them. Times
 * are only checked to be present, never compared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  isPeerSide,
  nodeFlops,
  nodeGroup,
  readProfile,
  summariseGroups,
  summariseNodes,
  type ProfiledRun,
} from '../../../bench/support/onnx-profile';
import {
  closeSession,
  createSession,
  endProfiling,
  OnnxSessionError,
  run,
} from '../../../functions/engine/onnx-session';
import { attr, GraphBuilder } from '../../../trainer/export/graph-builder';
import { at, defined, only } from '../../support/checked';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-profile-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A 3×3 convolution 2→4 channels with zero padding, then Relu. */
function convRelu(): Uint8Array {
  const g = new GraphBuilder('conv-relu');
  const x = g.input('x', [1, 2, 'h', 'w']);
  const w = g.floatInitializer('w', [4, 2, 3, 3], new Float32Array(72).fill(0.1));
  const y = g.op('Conv', [x, w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, 'conv');
  g.output(g.op('Relu', [y], {}, 'act'), [1, 4, 'h', 'w'], 'y');
  return g.toBytes();
}

test('a profiled session records each run with every node, its operator and shapes', async () => {
  // 'basic' keeps the Conv and Relu apart, so both nodes show as written.
  const session = await createSession(convRelu(), {
    intraOpThreads: 1,
    optimization: 'basic',
    profilePrefix: path.join(dir, 'conv-relu'),
  });
  for (const side of [8, 6]) {
    await run(session, { x: { data: new Float32Array(2 * side * side), dims: [1, 2, side, side] } });
  }
  const file = await endProfiling(session);
  await closeSession(session);
  expect(path.basename(file)).toMatch(/^conv-relu_.*\.json$/);

  const runs = await readProfile(file);
  expect(runs).toHaveLength(2);
  const [first, second] = [runs[0]!, runs[1]!];
  expect(first.nodes.map((n) => [n.name, n.op])).toEqual([
    ['conv', 'Conv'],
    ['act', 'Relu'],
  ]);
  expect(first.nodes[0]?.inputs).toEqual([
    [1, 2, 8, 8],
    [4, 2, 3, 3],
  ]);
  expect(second.nodes[0]?.outputs).toEqual([[1, 4, 6, 6]]);
  for (const r of runs) {
    expect(r.micros).toBeGreaterThan(0);
    for (const n of r.nodes) expect(n.micros).toBeGreaterThanOrEqual(0);
  }
  // 2 FLOP per multiply-add: 4 outputs channels × 8·8 positions × 2·3·3 taps.
  const [conv, relu] = [at(first.nodes, 0), at(first.nodes, 1)];
  expect(nodeFlops(conv)).toBe(2 * 4 * 64 * 18);
  expect(nodeFlops(relu)).toBe(0);
  expect(nodeGroup(conv)).toBe('Conv 3×3 2→4');
  expect(nodeGroup(relu)).toBe('element-wise');
});

test('endProfiling refuses a session that records no profile', async () => {
  const session = await createSession(convRelu(), { intraOpThreads: 1 });
  await expect(endProfiling(session)).rejects.toThrow(OnnxSessionError);
  await closeSession(session);
});

test('a parallel session computes what a sequential one does, and a bad inter-op count is refused', async () => {
  const input = { x: { data: Float32Array.from({ length: 50 }, (_, i) => Math.sin(i)), dims: [1, 2, 5, 5] } };
  const sequential = await createSession(convRelu(), { intraOpThreads: 1 });
  const parallel = await createSession(convRelu(), { intraOpThreads: 1, interOpThreads: 2 });
  const a = await run(sequential, input);
  const b = await run(parallel, input);
  await Promise.all([closeSession(sequential), closeSession(parallel)]);
  expect(Array.from(defined(b.y, 'output y').data)).toEqual(Array.from(defined(a.y, 'output y').data));
  await expect(createSession(convRelu(), { interOpThreads: 0 })).rejects.toThrow(
    'interOpThreads must be a whole number ≥ 1, got 0.',
  );
});

test('node summaries take each shape at its mean and fastest run, per pass', () => {
  const node = (micros: number, side: number): ProfiledRun['nodes'][number] => ({
    name: 'conv',
    op: 'Conv',
    micros,
    inputs: [
      [1, 2, side, side],
      [4, 2, 3, 3],
    ],
    outputs: [[1, 4, side, side]],
  });
  // Two passes of two runs each: one run at 8 px and one at 6 px per pass.
  const runs: ProfiledRun[] = [
    { micros: 0, nodes: [node(10, 8)] },
    { micros: 0, nodes: [node(4, 6)] },
    { micros: 0, nodes: [node(30, 8)] },
    { micros: 0, nodes: [node(2, 6)] },
  ];
  const summary = only(summariseNodes(runs, 2));
  expect(summary).toMatchObject({ name: 'conv', group: 'Conv 3×3 2→4', meanMicros: 20 + 3, minMicros: 10 + 2 });
  expect(summary.flops).toBe(2 * 4 * 18 * (64 + 36));
  expect(summariseGroups([summary])).toEqual([
    { group: 'Conv 3×3 2→4', nodes: 1, flops: summary.flops, meanMicros: 23, minMicros: 12 },
  ]);
  expect(() => summariseNodes(runs, 3)).toThrow('4 runs do not split into passes of 3.');
});

test("TPFR's peer-side nodes are those that read peer rows and no content rows", () => {
  const node = (op: string, inputs: number[][]): ProfiledRun['nodes'][number] => ({
    name: op,
    op,
    micros: 1,
    inputs,
    outputs: [],
  });
  const rows = new Set([976, 768]);
  expect(
    isPeerSide(
      node('MatMul', [
        [4096, 64],
        [64, 32],
      ]),
      4096,
      rows,
    ),
  ).toBe(true);
  expect(isPeerSide(node('Split', [[4096, 192], [3]]), 4096, rows)).toBe(true);
  expect(
    isPeerSide(
      node('Gemm', [
        [976, 66],
        [4096, 66],
      ]),
      4096,
      rows,
    ),
  ).toBe(false);
  expect(
    isPeerSide(
      node('Gather', [
        [4096, 128],
        [768, 9],
      ]),
      4096,
      rows,
    ),
  ).toBe(false);
  expect(
    isPeerSide(
      node('MatMul', [
        [976, 64],
        [64, 32],
      ]),
      4096,
      rows,
    ),
  ).toBe(false);
});
