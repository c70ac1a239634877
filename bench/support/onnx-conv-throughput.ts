/**
 * What onnxruntime reaches on one 3×3 convolution on this machine, measured in the caller's process so
 * that a model's achieved GFLOP/s can be read as a fraction of it under the same load. The graph is a
 * single Conv built with the exporter's GraphBuilder and run through the engine's session module (the
 * only onnxruntime importer), with the same thread count as the model.
 */
import { attr, GraphBuilder } from '../../trainer/export/graph-builder';
import { closeSession, createSession, run } from '../../functions/engine/onnx-session';
import { median } from './stylize-fixture';

/** One measured shape: input [1, channels, size, size], 3×3 filter, channels → channels, same padding. */
export interface OnnxConvThroughput {
  size: number;
  channels: number;
  milliseconds: number;
  gflops: number;
}

/** The shapes measured by default: a wide layer at low resolution and a narrow one at higher. */
export const DEFAULT_CONV_SHAPES: readonly (readonly [size: number, channels: number])[] = [
  [64, 256],
  [128, 64],
];

/** Median time of `reps` runs after 2 warm-ups, per shape. */
export async function measureOnnxConvThroughput(
  intraOpThreads: number,
  shapes: readonly (readonly [number, number])[] = DEFAULT_CONV_SHAPES,
  reps = 7,
): Promise<OnnxConvThroughput[]> {
  const results: OnnxConvThroughput[] = [];
  for (const [size, channels] of shapes) {
    const g = new GraphBuilder('conv-throughput');
    const x = g.input('x', [1, channels, size, size]);
    const weights = new Float32Array(channels * channels * 9).map((_, i) => Math.sin(i) * 0.05);
    const w = g.floatInitializer('w', [channels, channels, 3, 3], weights);
    const y = g.op('Conv', [x, w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
    g.output(y, [1, channels, size, size], 'y');
    const session = await createSession(g.toBytes(), { intraOpThreads });
    const input = {
      x: { data: new Float32Array(channels * size * size).map((_, i) => Math.cos(i)), dims: [1, channels, size, size] },
    };
    for (let i = 0; i < 2; i++) await run(session, input);
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      await run(session, input);
      times.push(performance.now() - start);
    }
    await closeSession(session);
    const ms = median(times);
    results.push({ size, channels, milliseconds: ms, gflops: (2 * size * size * 9 * channels * channels) / ms / 1e6 });
  }
  return results;
}
