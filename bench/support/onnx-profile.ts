/**
 * Reads onnxruntime's own profile (a session created with `profilePrefix`, finished by `endProfiling`)
 * and sorts its nodes into the groups the stylisation benchmarks report: convolutions by shape, instance
 * norm, the kNN's distances and TopK, gathers, matrix products, layout ops and element-wise ops, each
 * with the FLOPs its shapes imply.
 *
 * A profile is a Chrome trace-event array. Every run is a "model_run" event of category "Session", and
 * every node it executed is a "<node>_kernel_time" event of category "Node" inside that run's interval,
 * whose args carry the operator type and the input and output shapes. Names and types are those of the
 * optimised graph, so a fused or re-laid-out node appears as onnxruntime runs it (e.g. an NCHWc `Conv`
 * with `ReorderInput`/`ReorderOutput` around it at the 'all' level).
 */
import { promises as fs } from 'node:fs';

/** One node's execution in one run. */
export interface NodeTiming {
  /** Node name in the optimised graph. */
  name: string;
  /** Operator type (without its domain). */
  op: string;
  micros: number;
  inputs: readonly (readonly number[])[];
  outputs: readonly (readonly number[])[];
}

/** One `run` of a session: its total time as onnxruntime measured it, and its nodes in order. */
export interface ProfiledRun {
  micros: number;
  nodes: NodeTiming[];
}

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

/** Every run in a profile file, in order. */
export async function readProfile(file: string): Promise<ProfiledRun[]> {
  const events = JSON.parse(await fs.readFile(file, 'utf8')) as TraceEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time')).sort((a, b) => a.ts - b.ts);
  return runs.map((run) => ({
    micros: run.dur,
    nodes: nodes
      .filter((n) => n.ts >= run.ts && n.ts <= run.ts + run.dur)
      .map((n) => ({
        name: n.name.slice(0, -'_kernel_time'.length),
        op: n.args?.op_name ?? '?',
        micros: n.dur,
        inputs: (n.args?.input_type_shape ?? []).map(shapeOf),
        outputs: (n.args?.output_type_shape ?? []).map(shapeOf),
      })),
  }));
}

function shapeOf(typed: Record<string, number[]>): number[] {
  return Object.values(typed)[0] ?? [];
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * FLOPs of a node (2 per multiply-add) for the operators that do arithmetic in bulk: convolutions and
 * matrix products. Everything else counts 0: its cost is memory traffic or comparisons, not FLOPs.
 */
export function nodeFlops(node: NodeTiming): number {
  const [a, w] = node.inputs;
  const out = node.outputs[0];
  if (!a || !w || !out) return 0;
  switch (node.op) {
    case 'Conv':
    case 'FusedConv':
      // weight [Cout, Cin/group, kh, kw]: each output value is Cin/group·kh·kw multiply-adds.
      return 2 * product(out) * product(w.slice(1));
    case 'ConvTranspose':
      // weight [Cin, Cout/group, kh, kw]: each input value is scattered into Cout/group·kh·kw outputs.
      return 2 * product(a) * product(w.slice(1));
    case 'MatMul':
    case 'FusedMatMul':
    case 'Gemm':
    case 'FusedGemm':
      // The exporter never transposes A, so its last axis is the reduced one.
      return 2 * product(out) * a[a.length - 1]!;
    default:
      return 0;
  }
}

/** Operators that only move, copy or reinterpret data. */
const LAYOUT_OPS = new Set([
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Concat',
  'Split',
  'Slice',
  'Expand',
  'Shape',
  'Identity',
  'Flatten',
]);

/**
 * The report group of a node. Convolutions are grouped by kernel and channel widths, since narrow
 * layers cannot reach a wide layer's rate; the rest by what bounds them.
 */
export function nodeGroup(node: NodeTiming): string {
  const w = node.inputs[1] ?? [];
  switch (node.op) {
    case 'Conv':
    case 'FusedConv':
      return `Conv ${w[2]}×${w[3]} ${w[1]}→${w[0]}`;
    case 'ConvTranspose':
      return `ConvTranspose ${w[2]}×${w[3]} ${w[0]}→${w[1]}`;
    case 'InstanceNormalization':
      return 'InstanceNormalization';
    case 'ReorderInput':
    case 'ReorderOutput':
      return 'NCHWc reorder (Reorder*)';
    case 'Pad':
      return 'reflection Pad';
    case 'Resize':
      return 'Resize (upsampling)';
    case 'TopK':
      return 'kNN: TopK';
    case 'Gather':
      return 'Gather';
    case 'Gemm':
    case 'FusedGemm':
    case 'MatMul':
    case 'FusedMatMul':
      // The TPFR export names the distance product `tpfr.<stage>.dist`.
      return /\.dist$/.test(node.name) ? 'kNN: distances (Gemm)' : 'MatMul/Gemm';
    default:
      // The explicit instance norm's pieces carry the norm's name (layers-to-onnx.ts).
      if (/^(global\.)?norm\d+\./.test(node.name)) return 'instance norm pieces (Reduce/Sub/Mul/Div)';
      return LAYOUT_OPS.has(node.op) ? 'layout (Transpose/Reshape/Concat/Split/Slice/Expand)' : 'element-wise';
  }
}

/**
 * The TPFR graph's nodes that work on the peers alone (their inputs are `peers` rows and none is a
 * content row): the peer-side MLP, norms and copies, which every call repeats although the peers do
 * not change between the calls of one request.
 */
export function isPeerSide(node: NodeTiming, peers: number, contentRows: ReadonlySet<number>): boolean {
  const leading = node.inputs.flatMap((dims) => dims.slice(0, 1));
  return leading.includes(peers) && !leading.some((d) => contentRows.has(d));
}

/** One node's time per pass. */
export interface NodeSummary {
  name: string;
  op: string;
  group: string;
  /** FLOPs per pass. */
  flops: number;
  /** Per pass: each of its runs at the mean time of runs of that shape. */
  meanMicros: number;
  /** Per pass: each of its runs at the fastest time a run of that shape took. */
  minMicros: number;
}

/**
 * Splits runs into passes of `runsPerPass` consecutive runs (one request: e.g. two encoder runs, one per
 * image, or TPFR's chunks) and gives each node's time per pass, from all the runs of the same input
 * shapes (TPFR's equal chunks recur within a pass as well as across passes). On a machine where other work
 * preempts the process, a preemption is as likely to fall in one microsecond of a node as in any other,
 * so the mean times keep the nodes' proportions; the fastest runs are the least disturbed.
 */
export function summariseNodes(
  runs: readonly ProfiledRun[],
  runsPerPass: number,
  group: (node: NodeTiming) => string = nodeGroup,
): NodeSummary[] {
  if (runs.length === 0 || runs.length % runsPerPass !== 0) {
    throw new Error(`${runs.length} runs do not split into passes of ${runsPerPass}.`);
  }
  // Samples by node and input shapes; how often each occurs in one pass (the passes are alike).
  const samples = new Map<string, { node: NodeTiming; micros: number[]; perPass: number }>();
  runs.forEach((run, i) => {
    for (const n of run.nodes) {
      const key = `${n.name}|${JSON.stringify(n.inputs)}`;
      const entry = samples.get(key) ?? { node: n, micros: [], perPass: 0 };
      entry.micros.push(n.micros);
      if (i < runsPerPass) entry.perPass++;
      samples.set(key, entry);
    }
  });
  const nodes = new Map<string, NodeSummary>();
  for (const { node, micros, perPass } of samples.values()) {
    const summary = nodes.get(node.name) ?? {
      name: node.name,
      op: node.op,
      group: group(node),
      flops: 0,
      meanMicros: 0,
      minMicros: 0,
    };
    summary.flops += perPass * nodeFlops(node);
    summary.meanMicros += (perPass * micros.reduce((a, b) => a + b, 0)) / micros.length;
    summary.minMicros += perPass * Math.min(...micros);
    nodes.set(node.name, summary);
  }
  return [...nodes.values()];
}

/** A report group's totals over its nodes. */
export interface GroupSummary {
  group: string;
  nodes: number;
  flops: number;
  meanMicros: number;
  minMicros: number;
}

/** Totals per group, largest mean time first. */
export function summariseGroups(nodes: readonly NodeSummary[]): GroupSummary[] {
  const groups = new Map<string, GroupSummary>();
  for (const n of nodes) {
    const g = groups.get(n.group) ?? { group: n.group, nodes: 0, flops: 0, meanMicros: 0, minMicros: 0 };
    g.nodes++;
    g.flops += n.flops;
    g.meanMicros += n.meanMicros;
    g.minMicros += n.minMicros;
    groups.set(n.group, g);
  }
  return [...groups.values()].sort((a, b) => b.meanMicros - a.meanMicros);
}
