/**
 * Loads a model package (trainer/export/package.ts) into onnxruntime sessions after checking it: the
 * manifest's format and required fields, every file's size and sha256, and that each graph loads. A
 * package that fails any check is refused with one error naming the file at fault, so a damaged
 * download never produces a silently wrong image.
 */
import path from 'node:path';

import {
  GRAPH_FILES,
  ModelPackageError,
  TILED_GRAPH_FILES,
  type TiledGraphName,
  readManifest,
  verifyPackageFiles,
  type GraphName,
  type ModelManifest,
} from '../../trainer/export/package-format';
import { must } from '../core/must';
import { closeSession, createSession, OnnxSessionError, type OnnxSession, type SessionOptions } from './onnx-session';
import { stagedGraph, type StagedGraph } from './tiled-runner';

export { ModelPackageError, type ModelManifest };

/** A checked package with one session per graph. */
export interface ModelPackage {
  dir: string;
  manifest: ModelManifest;
  sessions: Record<GraphName, OnnxSession>;
  /** The graphs for large images, when the package holds them (see trainer/export/tiled-graphs.ts). */
  tiled?: Record<TiledGraphName, OnnxSession>;
  /**
   * The tiled encoder and decoder cut into stages at their norms, for large images in linear time
   * (tiled-runner.ts `runStaged`); their sessions open on first use.
   */
  staged?: { encoder: StagedGraph; decoder: StagedGraph };
}

/**
 * Verifies the package in `dir` and opens its graphs.
 *
 * @throws ModelPackageError naming the manifest or the graph file that fails a check
 */
export async function loadModelPackage(dir: string, options: SessionOptions = {}): Promise<ModelPackage> {
  const root = path.resolve(dir);
  const manifest = await readManifest(root);
  const contents = await verifyPackageFiles(root, manifest);
  const sessions: Partial<Record<GraphName | TiledGraphName, OnnxSession>> = {};
  const tiled = manifest.tiling !== undefined && Object.values(TILED_GRAPH_FILES).every((f) => f in manifest.files);
  const graphs = { ...GRAPH_FILES, ...(tiled ? TILED_GRAPH_FILES : {}) } as Record<GraphName | TiledGraphName, string>;
  try {
    for (const [graph, file] of Object.entries(graphs) as [GraphName | TiledGraphName, string][]) {
      try {
        // The manifest's checks make every graph file one of the verified files.
        const bytes = must(contents[file], `the contents of ${file}`);
        sessions[graph] = await createSession(bytes, graphSessionOptions(graph, options));
      } catch (err) {
        if (!(err instanceof OnnxSessionError)) throw err;
        throw new ModelPackageError(`${path.join(root, file)} does not load: ${err.message}`);
      }
    }
  } catch (err) {
    await Promise.all(Object.values(sessions).map((s) => closeSession(s)));
    throw err;
  }
  const all = sessions as Record<GraphName | TiledGraphName, OnnxSession>;
  const tiling = manifest.tiling;
  const staged =
    tiled && tiling
      ? {
          encoder: stagedGraph(tiledBytes(contents, 'encoderTiled'), tiling.encoderNorms.length, options),
          decoder: stagedGraph(tiledBytes(contents, 'decoderTiled'), tiling.decoderNorms.length, options),
        }
      : undefined;
  return {
    dir: root,
    manifest,
    sessions: { encoder: all.encoder, tpfr: all.tpfr, decoder: all.decoder },
    ...(tiled ? { tiled: { encoderTiled: all.encoderTiled, global: all.global, decoderTiled: all.decoderTiled } } : {}),
    ...(staged ? { staged } : {}),
  };
}

/**
 * The options a graph's session is opened with: the engine's own, with each graph's exceptions.
 *
 * No graph spins. A spinning intra-op thread busy-waits for the next parallel operator; between two runs
 * (TPFR's chunks, with JavaScript in between) it only burns CPU, and within a run it holds a core through
 * every operator the pool does not split. With it the encoder and decoder took more CPU time and no less
 * wall-clock time (bench/stylize-profile.ts, variant `spin`; README, "Benchmarks").
 */
export function graphSessionOptions(graph: GraphName | TiledGraphName, options: SessionOptions): SessionOptions {
  // The tiled graphs serve only large images, one large run at a time: their sessions return memory
  // after each run rather than keep a 4096 px run's high-water mark for the life of the process.
  if (graph in TILED_GRAPH_FILES) return { ...options, lowMemory: true, spinWait: false };
  return { ...options, spinWait: false };
}

/** Releases a package's sessions. */
export async function closeModelPackage(pkg: ModelPackage): Promise<void> {
  await Promise.all([...Object.values(pkg.sessions), ...Object.values(pkg.tiled ?? {})].map((s) => closeSession(s)));
  await Promise.all([pkg.staged?.encoder.close(), pkg.staged?.decoder.close()]);
}

/** A tiled graph's verified bytes; `tiled` is set only when the manifest lists every tiled graph. */
function tiledBytes(contents: Record<string, Buffer>, graph: TiledGraphName): Buffer {
  return must(contents[TILED_GRAPH_FILES[graph]], `the contents of ${TILED_GRAPH_FILES[graph]}`);
}
