/**
 * Where a stylisation's time goes inside onnxruntime, graph by graph and operator group by operator
 * group, and what session settings change it. Runs the model package's three graphs the way the engine
 * runs one request (the encoder on the style, then on the content; TPFR in the engine's chunks of content
 * rows against every peer; the decoder), with onnxruntime's own profiler on, and prints per graph the
 * time of each group of nodes (convolutions by kernel and channel widths, instance norm, NCHWc reorders,
 * padding, the kNN's distance product and TopK, gathers, matrix products, layout ops, element-wise ops),
 * the FLOPs of the convolutions and products and the GFLOP/s they reach, next to a single 3×3 256→256
 * convolution measured in the same run.
 *
 *   npx tsx bench/stylize-profile.ts [--model models/default] [--size 512] [--style-size 512]
 *     [--threads 2] [--reps 5] [--variants engine,spin,...] [--detail engine,...] [--nodes 12]
 *
 * Variants (VARIANTS below) open their own sessions with other settings, or, for `reexport`, on the
 * package's weights exported again by this checkout's exporter; passes alternate between the variants and
 * the engine's own request (createEngine), in a rotating order, so that a change in the machine's load
 * falls on all of them.
 *
 * Rates are per CPU-second: a run's CPU time (every thread of the process) is what it computed, while its
 * wall-clock time also holds every moment another process had the core, which on a shared machine can be
 * most of it. A CPU-second is one core busy for a second, so on an idle machine with T threads the
 * wall-clock rate is up to about T times the per-CPU-second rate; spinning threads count as busy. The profile
 * itself measures nodes in wall-clock time; each group gets its graph's CPU time in proportion to its
 * nodes' mean wall-clock time (a preemption is as likely to fall in one microsecond as in another).
 * Prints figures; never passes or fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

import { must } from '../functions/core/must';
import { createEngine, type Engine } from '../functions/engine';
import { toRows, tpfrChunkRows } from '../functions/engine/engine';
import { graphSessionOptions } from '../functions/engine/model-package';
import {
  closeSession,
  createSession,
  endProfiling,
  nchw,
  run,
  type FloatTensor,
  type OnnxSession,
  type SessionOptions,
} from '../functions/engine/onnx-session';
import { latentChannels, type ModelConfig } from '../trainer/config';
import { decoderFeeds } from '../functions/engine/style-condition';
import {
  ENCODER_IO,
  GRAPH_FILES,
  readManifest,
  TPFR_IO,
  verifyPackageFiles,
  type GraphName,
} from '../trainer/export/package-format';
import { exportModel, readModelSource } from '../trainer/export/model-export';
import { WINDOW_SLACK } from '../trainer/export/tpfr-to-onnx';
import { measureOnnxConvThroughput, type OnnxConvThroughput } from './support/onnx-conv-throughput';
import {
  isPeerSide,
  nodeGroup,
  readProfile,
  summariseGroups,
  summariseNodes,
  type NodeSummary,
} from './support/onnx-profile';
import { flag } from './support/flag';
import { clockStages, type StageTimes } from './support/stage-timer';
import { stylizeFlops } from './support/stylize-flops';
import { DEFAULT_MODEL_DIR, median, syntheticImage } from './support/stylize-fixture';

/** A set of session settings to compare, per graph; `engine` is what the engine ships with. */
interface VariantSpec {
  about: string;
  options: (graph: GraphName, base: SessionOptions) => SessionOptions;
  /** Content rows per TPFR call. @default the engine's */
  chunkRows?: number;
}

const VARIANTS: Record<string, VariantSpec> = {
  engine: { about: "the engine's settings", options: (g, base) => graphSessionOptions(g, base) },
  extended: {
    about: "graph optimisation 'extended' (plain NCHW, no NCHWc)",
    options: (g, base) => ({ ...graphSessionOptions(g, base), optimization: 'extended' }),
  },
  basic: {
    about: "graph optimisation 'basic'",
    options: (g, base) => ({ ...graphSessionOptions(g, base), optimization: 'basic' }),
  },
  'low-memory': {
    about: 'no CPU memory arena, no memory pattern',
    options: (g, base) => ({ ...graphSessionOptions(g, base), lowMemory: true }),
  },
  spin: {
    about: 'intra-op spinning in the encoder and decoder, not in TPFR',
    options: (g, base) => ({ ...graphSessionOptions(g, base), spinWait: g !== 'tpfr' }),
  },
  'spin-all': {
    about: 'intra-op spinning in every graph',
    options: (g, base) => ({ ...graphSessionOptions(g, base), spinWait: true }),
  },
  parallel: {
    about: 'parallel execution mode, 2 inter-op threads',
    options: (g, base) => ({ ...graphSessionOptions(g, base), interOpThreads: 2 }),
  },
  'chunks-256': {
    about: 'TPFR in chunks of 256 content rows',
    options: (g, base) => graphSessionOptions(g, base),
    chunkRows: 256,
  },
  'chunks-4096': {
    about: 'TPFR in chunks of 4096 content rows',
    options: (g, base) => graphSessionOptions(g, base),
    chunkRows: 4096,
  },
  reexport: {
    about: "the engine's settings on the package's weights exported again by this exporter",
    options: (g, base) => graphSessionOptions(g, base),
  },
};

const GRAPHS: readonly GraphName[] = ['encoder', 'tpfr', 'decoder'];

/** Seconds of one graph's runs in one pass: wall clock, and CPU time of every thread of the process. */
interface Spent {
  wall: number;
  cpu: number;
}

/** One variant's open sessions and what its passes measured. */
interface Variant {
  name: string;
  spec: VariantSpec;
  sessions: Record<GraphName, OnnxSession>;
  passes: Record<GraphName, Spent>[];
}

/** The request's tensors that do not depend on the variant. */
interface Inputs {
  content: FloatTensor;
  style: FloatTensor;
}

/** RGB bytes (HWC) → [1, 3, H, W] in [-1, 1], the engine's preprocessing. */
async function imageTensor(png: Buffer): Promise<FloatTensor> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = data[3 * p + c]! / 127.5 - 1;
  return { data: out, dims: [1, 3, info.height, info.width] };
}

/** Rows [h·w, C] → latent [1, C, h, w]. */
function toLatent(rows: Float32Array, c: number, h: number, w: number): FloatTensor {
  const plane = h * w;
  const data = new Float32Array(rows.length);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) data[ch * plane + p] = rows[p * c + ch]!;
  return { data, dims: [1, c, h, w] };
}

/** One request through the variant's sessions, in the engine's order of runs. */
async function pass(v: Variant, inputs: Inputs, cfg: ModelConfig): Promise<Record<GraphName, Spent>> {
  const channels = latentChannels(cfg).total;
  const spent: Record<GraphName, Spent> = {
    encoder: { wall: 0, cpu: 0 },
    tpfr: { wall: 0, cpu: 0 },
    decoder: { wall: 0, cpu: 0 },
  };
  const timed = async (graph: GraphName, feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>> => {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const out = await run(v.sessions[graph], feeds);
    const cpu = process.cpuUsage(cpuStart);
    spent[graph].wall += (performance.now() - start) / 1000;
    spent[graph].cpu += (cpu.user + cpu.system) / 1e6;
    return out;
  };
  const encoded = async (image: FloatTensor): Promise<FloatTensor> =>
    must((await timed('encoder', { [ENCODER_IO.image]: image }))[ENCODER_IO.latent], 'the encoder output');
  const peers = toRows(await encoded(inputs.style));
  const latent = await encoded(inputs.content);
  const [, , h, w] = nchw(latent);
  const content = toRows(latent);
  const peerCount = must(peers.dims[0], 'the peer count');
  const logWeight: FloatTensor = { data: new Float32Array(peerCount), dims: [peerCount] };
  const chunk = tpfrChunkRows(peerCount, v.spec.chunkRows);
  const recombined = new Float32Array(content.data.length);
  for (let start = 0; start < h * w; start += chunk) {
    const end = Math.min(h * w, start + chunk);
    const out = await timed('tpfr', {
      [TPFR_IO.content]: {
        data: content.data.subarray(start * channels, end * channels),
        dims: [end - start, channels],
      },
      [TPFR_IO.peers]: peers,
      [TPFR_IO.peerLogWeight]: logWeight,
    });
    recombined.set(must(out[TPFR_IO.output], 'the TPFR output').data, start * channels);
  }
  await timed('decoder', decoderFeeds(v.sessions.decoder, cfg, toLatent(recombined, channels, h, w)));
  return spent;
}

/** Runs per pass of each graph: two encoder runs, the TPFR chunks, one decoder run. */
function runsPerPass(size: number, styleSize: number, chunkRows?: number): Record<GraphName, number> {
  const rows = (size / 4) * (size / 4);
  return {
    encoder: 2,
    tpfr: Math.ceil(rows / tpfrChunkRows((styleSize / 4) * (styleSize / 4), chunkRows)),
    decoder: 1,
  };
}

const pad = (x: string | number, n: number): string => String(x).padStart(n);

/**
 * One graph's groups. Each group's CPU time is the graph's median CPU time per pass shared out in
 * proportion to the group's mean node time. `modelFlops` is the graph's useful work from the layer lists;
 * the groups' FLOPs are those of the shapes onnxruntime ran, which at the 'all' level include the NCHWc
 * layout's channel padding (a 16→3 convolution runs as 16→16).
 */
function printGroups(graph: GraphName, nodes: readonly NodeSummary[], cpuSeconds: number, modelFlops: number): void {
  const groups = summariseGroups(nodes);
  const total = groups.reduce((s, g) => s + g.meanMicros, 0);
  const executed = groups.reduce((s, g) => s + g.flops, 0);
  console.log(
    `  ${graph}: ${nodes.length} nodes, ${(modelFlops / 1e9).toFixed(2)} GFLOP of the model (${(executed / 1e9).toFixed(2)} as run), ` +
      `${(cpuSeconds * 1000).toFixed(0)} CPU ms per pass: ${(modelFlops / cpuSeconds / 1e9).toFixed(1)} GFLOP per CPU-second`,
  );
  console.log(
    `    ${'group'.padEnd(48)}${pad('nodes', 6)}${pad('GFLOP', 8)}${pad('share', 7)}${pad('CPU ms', 8)}${pad('GF/CPU-s', 10)}${pad('best ms', 9)}`,
  );
  for (const g of groups) {
    const share = g.meanMicros / total;
    const cpuMs = share * cpuSeconds * 1000;
    console.log(
      `    ${g.group.padEnd(48)}${pad(g.nodes, 6)}${pad(g.flops > 0 ? (g.flops / 1e9).toFixed(2) : '', 8)}` +
        `${pad(`${(100 * share).toFixed(1)}%`, 7)}${pad(cpuMs.toFixed(1), 8)}` +
        `${pad(g.flops > 0 ? (g.flops / cpuMs / 1e6).toFixed(1) : '', 10)}${pad((g.minMicros / 1000).toFixed(1), 9)}`,
    );
  }
}

async function main(): Promise<void> {
  const modelDir = path.resolve(flag('model', DEFAULT_MODEL_DIR));
  const size = Number(flag('size', '512'));
  const styleSize = Number(flag('style-size', '512'));
  const threads = Number(flag('threads', '2'));
  const reps = Number(flag('reps', '5'));
  const names = flag('variants', 'engine').split(',');
  const detail = flag('detail', must(names[0], 'a variant')).split(',');
  const topNodes = Number(flag('nodes', '0'));
  for (const n of [...names, ...detail]) {
    if (!(n in VARIANTS))
      throw new Error(`Unknown variant "${n}". Expected some of: ${Object.keys(VARIANTS).join(', ')}.`);
  }
  if (size % 4 !== 0 || styleSize % 4 !== 0) throw new Error('--size and --style-size must be multiples of 4.');

  const manifest = await readManifest(modelDir);
  const contents = await verifyPackageFiles(modelDir, manifest);
  console.log(`model: ${modelDir} (${manifest.name} ${manifest.version}, preset ${manifest.preset})`);
  const profileDir = mkdtempSync(path.join(tmpdir(), 'peerstyle-profile-'));
  // The package as this checkout's exporter writes it, from the weights the package carries.
  let reexported: Record<string, Uint8Array> | undefined;
  if (names.includes('reexport')) {
    const dir = path.join(profileDir, 'reexport');
    const source = await readModelSource(modelDir);
    await exportModel(source, dir, { name: manifest.name, version: manifest.version, defaults: manifest.defaults });
    reexported = await verifyPackageFiles(dir, await readManifest(dir));
    const graphOf = (files: Record<string, Uint8Array>, g: GraphName): Uint8Array =>
      must(files[GRAPH_FILES[g]], GRAPH_FILES[g]);
    const same = GRAPHS.filter((g) => Buffer.compare(graphOf(contents, g), graphOf(reexported!, g)) === 0);
    console.log(
      `reexport: the package's weights exported again; graphs identical to the package's: ${same.join(', ') || 'none'}`,
    );
  }
  const contentPng = await syntheticImage(size, size, 1);
  const stylePng = await syntheticImage(styleSize, styleSize, 2);
  const inputs: Inputs = { content: await imageTensor(contentPng), style: await imageTensor(stylePng) };
  console.log(
    `content ${size}×${size}, style ${styleSize}×${styleSize}, ${threads} intra-op threads, ${reps} passes per variant after one warm-up; ` +
      `load average at start ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );

  const variants: Variant[] = [];
  for (const name of names) {
    const spec = must(VARIANTS[name], `variant ${name}`); // checked above
    const sessions = {} as Record<GraphName, OnnxSession>;
    for (const graph of GRAPHS) {
      const bytes = must((name === 'reexport' ? reexported! : contents)[GRAPH_FILES[graph]], GRAPH_FILES[graph]);
      sessions[graph] = await createSession(bytes, {
        ...spec.options(graph, { intraOpThreads: threads }),
        profilePrefix: path.join(profileDir, `${name}-${graph}`),
      });
    }
    variants.push({ name, spec, sessions, passes: [] });
  }
  const engine: Engine = await createEngine({ modelDir, intraOpThreads: threads });
  // At render scale 1: the graphs' own passes below work at the content's size.
  const request = { content: contentPng, styles: [{ image: stylePng }], styleSize, renderScale: 1 };

  // Warm-up: session start-up, allocator growth, the engine's first request.
  for (const v of variants) await pass(v, inputs, manifest.config);
  await engine.stylize(request);
  const engineRuns: { wall: StageTimes; cpu: Omit<StageTimes, 'tpfrCalls'> }[] = [];
  const reference: OnnxConvThroughput[] = [];
  for (let r = 0; r < reps; r++) {
    // Rotate the order so that no variant always follows the same one.
    const order = [...variants.keys(), variants.length].map((_, i, all) => all[(i + r) % all.length]!);
    for (const i of order) {
      // The index one past the variants stands for the engine.
      const v = variants[i];
      if (v === undefined) {
        engineRuns.push(await clockStages(engine, request));
      } else v.passes.push(await pass(v, inputs, manifest.config));
    }
    reference.push(...(await measureOnnxConvThroughput(threads, [[64, 256]], 5, { spinWait: false })));
  }
  await engine.close();

  const convRate = median(reference.map((c) => c.cpuGflops));
  console.log('');
  console.log(
    `single Conv 3×3 256→256 @ 64×64, ${reps}×5 runs, no spinning: ${convRate.toFixed(1)} GFLOP per CPU-second (median); ` +
      `wall clock best ${Math.max(...reference.map((c) => c.bestGflops)).toFixed(1)} GFLOP/s, ` +
      `median ${median(reference.map((c) => c.gflops)).toFixed(1)} GFLOP/s`,
  );
  const perPass = runsPerPass(size, styleSize);
  const flops = stylizeFlops(
    manifest.config,
    { height: size, width: size },
    { height: styleSize, width: styleSize },
    perPass.tpfr,
    manifest.config.knn + WINDOW_SLACK,
  );
  const modelFlops: Record<GraphName, number> = {
    encoder: flops.encoderContent + flops.encoderStyle,
    tpfr: flops.tpfrExecuted,
    decoder: flops.decoder,
  };
  const engineWall = median(engineRuns.map((r) => r.wall.total));
  const engineCpu = median(engineRuns.map((r) => r.cpu.total));
  console.log(
    `FLOPs of the request as the model defines them (layer lists; TPFR as the exported graph runs it): ` +
      `encoder ×2 ${(modelFlops.encoder / 1e9).toFixed(1)} G, TPFR ${(modelFlops.tpfr / 1e9).toFixed(1)} G, ` +
      `decoder ${(modelFlops.decoder / 1e9).toFixed(1)} G, whole ${(flops.executed / 1e9).toFixed(1)} G`,
  );
  console.log(
    `engine request (createEngine: images read, resized and written, JavaScript between the graphs), median: ` +
      `${engineWall.toFixed(2)} s wall clock, ${engineCpu.toFixed(2)} CPU s: ` +
      `${(flops.executed / engineCpu / 1e9).toFixed(1)} GFLOP per CPU-second, ` +
      `${((100 * flops.executed) / engineCpu / 1e9 / convRate).toFixed(0)}% of the single conv's`,
  );
  const stage = (k: keyof Omit<StageTimes, 'tpfrCalls'>): string => median(engineRuns.map((r) => r.cpu[k])).toFixed(3);
  console.log(
    `  CPU s by stage: read ${stage('read')}, encode ${stage('encode')}, TPFR ${stage('tpfr')}, ` +
      `decode ${stage('decode')}, write ${stage('write')}`,
  );
  console.log('');
  console.log('the graphs per pass, CPU s (median of passes; wall clock median in brackets):');
  console.log(
    `  ${'variant'.padEnd(12)}${pad('encoder ×2', 16)}${pad('TPFR', 16)}${pad('decoder', 16)}${pad('sum', 16)}` +
      `${pad('GF/CPU-s', 10)}${pad('of conv', 9)}  settings`,
  );
  const summaries = new Map<string, Record<GraphName, NodeSummary[]>>();
  const cpuPerPass = new Map<string, Record<GraphName, number>>();
  for (const v of variants) {
    const cpu = (g: GraphName): number => median(v.passes.map((p) => p[g].cpu));
    const cell = (pick: (p: Record<GraphName, Spent>, k: keyof Spent) => number): string =>
      pad(
        `${median(v.passes.map((p) => pick(p, 'cpu'))).toFixed(3)} (${median(v.passes.map((p) => pick(p, 'wall'))).toFixed(2)})`,
        16,
      );
    const sum = median(v.passes.map((p) => GRAPHS.reduce((s, g) => s + p[g].cpu, 0)));
    const rate = flops.executed / sum / 1e9;
    console.log(
      `  ${v.name.padEnd(12)}${cell((p, k) => p.encoder[k])}${cell((p, k) => p.tpfr[k])}${cell((p, k) => p.decoder[k])}` +
        `${cell((p, k) => p.encoder[k] + p.tpfr[k] + p.decoder[k])}${pad(rate.toFixed(1), 10)}` +
        `${pad(`${((100 * rate) / convRate).toFixed(0)}%`, 9)}  ${v.spec.about}`,
    );
    const own = runsPerPass(size, styleSize, v.spec.chunkRows);
    const byGraph = {} as Record<GraphName, NodeSummary[]>;
    for (const graph of GRAPHS) {
      const runs = await readProfile(await endProfiling(v.sessions[graph]));
      // The warm-up pass is left out.
      // TPFR's peer-side nodes form their own group: work each call repeats on the same peers.
      const peers = (styleSize / 4) ** 2;
      const contentRows = new Set(
        runs.flatMap((r) => r.nodes.filter((n) => n.op === 'TopK').flatMap((n) => n.inputs[0]?.slice(0, 1) ?? [])),
      );
      byGraph[graph] = summariseNodes(runs.slice(own[graph]), own[graph], (n) =>
        graph === 'tpfr' && isPeerSide(n, peers, contentRows)
          ? 'TPFR peer side (repeated by every call)'
          : nodeGroup(n),
      );
      await closeSession(v.sessions[graph]);
    }
    summaries.set(v.name, byGraph);
    cpuPerPass.set(v.name, { encoder: cpu('encoder'), tpfr: cpu('tpfr'), decoder: cpu('decoder') });
  }
  for (const v of variants) {
    if (!detail.includes(v.name)) continue;
    const byGraph = summaries.get(v.name)!;
    const cpu = cpuPerPass.get(v.name)!;
    console.log('');
    console.log(
      `${v.name}: onnxruntime's profile by group; a group's CPU ms is its graph's CPU time shared out by mean node time`,
    );
    for (const graph of GRAPHS) printGroups(graph, byGraph[graph], cpu[graph], modelFlops[graph]);
    if (topNodes > 0) {
      const all = GRAPHS.flatMap((g) => byGraph[g]);
      const total = all.reduce((s, n) => s + n.meanMicros, 0);
      console.log(`  the ${topNodes} largest nodes by mean time (share of all three graphs' node time):`);
      for (const n of [...all].sort((a, b) => b.meanMicros - a.meanMicros).slice(0, topNodes)) {
        console.log(
          `    ${n.name.padEnd(44)}${n.op.padEnd(24)}${pad(`${((100 * n.meanMicros) / total).toFixed(1)}%`, 7)}`,
        );
      }
    }
  }
  rmSync(profileDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
