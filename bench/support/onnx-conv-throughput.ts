/**
 * What onnxruntime reaches on one 3×3 convolution on this machine, measured in the caller's process so
 * that a model's achieved GFLOP/s can be read as a fraction of it under the same load. The graph is a
 * single Conv built with the exporter's GraphBuilder and run through the engine's session module (the
 * only onnxruntime importer), with the same thread count as the model.
 */
import { attr, GraphBuilder } from '../../trainer/export/graph-builder';
import { closeSession, createSession, run, type SessionOptions } from '../../functions/engine/onnx-session';
import { median } from './stylize-fixture';

/** One measured shape: input [1, channels, size, size], 3×3 filter, channels → channels, same padding. */
export interface OnnxConvThroughput {
  size: number;
  channels: number;
  /** Median time and the rate it gives. */
  milliseconds: number;
  gflops: number;
  /** Fastest time and the rate it gives: the figure least disturbed by other work on the machine. */
  bestMilliseconds: number;
  bestGflops: number;
  /**
   * Median CPU time of a run (every thread of the process) and the GFLOP per CPU-second it gives: the
   * figure other work on the machine disturbs least, since time spent preempted is not counted.
   */
  cpuMilliseconds: number;
  cpuGflops: number;
}

/** The shapes measured by default: a wide layer at low resolution and a narrow one at higher. */
export const DEFAULT_CONV_SHAPES: readonly (readonly [size: number, channels: number])[] = [
  [64, 256],
  [128, 64],
];

/** Median and fastest wall-clock time and median CPU time of `reps` runs after 2 warm-ups, per shape. */
export async function measureOnnxConvThroughput(
  intraOpThreads: number,
  shapes: readonly (readonly [number, number])[] = DEFAULT_CONV_SHAPES,
  reps = 7,
  options: SessionOptions = {},
): Promise<OnnxConvThroughput[]> {
  const results: OnnxConvThroughput[] = [];
  for (const [size, channels] of shapes) {
    const g = new GraphBuilder('conv-throughput');
    const x = g.input('x', [1, channels, size, size]);
    const weights = new Float32Array(channels * channels * 9).map((_, i) => Math.sin(i) * 0.05);
    const w = g.floatInitializer('w', [channels, channels, 3, 3], weights);
    const y = g.op('Conv', [x, w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
    g.output(y, [1, channels, size, size], 'y');
    const session = await createSession(g.toBytes(), { ...options, intraOpThreads });
    const input = {
      x: { data: new Float32Array(channels * size * size).map((_, i) => Math.cos(i)), dims: [1, channels, size, size] },
    };
    for (let i = 0; i < 2; i++) await run(session, input);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      await run(session, input);
      const used = process.cpuUsage(cpuStart);
      times.push(performance.now() - start);
      cpu.push((used.user + used.system) / 1000);
    }
    await closeSession(session);
    const flop = 2 * size * size * 9 * channels * channels;
    const ms = median(times);
    const best = Math.min(...times);
    results.push({
      size,
      channels,
      milliseconds: ms,
      gflops: flop / ms / 1e6,
      bestMilliseconds: best,
      bestGflops: flop / best / 1e6,
      cpuMilliseconds: median(cpu),
      cpuGflops: flop / median(cpu) / 1e6,
    });
  }
  return results;
}
