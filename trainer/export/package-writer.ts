/**
 * Writes model packages (the format is package-format.ts): the graphs, then the manifest with every
 * file's size and hash; and records `peerstyle eval`'s figures into an existing manifest.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { DEFAULT_OPSET } from './graph-builder';
import {
  GRAPH_FILES,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  readManifest,
  sha256,
  TILED_GRAPH_FILES,
  type GraphName,
  type ModelManifest,
  type TiledGraphName,
} from './package-format';

/** Writes the graphs and the manifest to `dir` (created if needed); the manifest goes last. */
export async function writePackage(
  dir: string,
  graphs: Record<GraphName, Uint8Array> & Partial<Record<TiledGraphName, Uint8Array>>,
  info: Pick<
    ModelManifest,
    'name' | 'version' | 'preset' | 'config' | 'training' | 'tiling' | 'colourHead' | 'defaults'
  >,
  /** Other files of the package by name (the trained weights), listed and hashed like the graphs. */
  extraFiles: Readonly<Record<string, Uint8Array>> = {},
): Promise<ModelManifest> {
  await fs.mkdir(dir, { recursive: true });
  const files: ModelManifest['files'] = {};
  const all = { ...GRAPH_FILES, ...TILED_GRAPH_FILES } as Record<GraphName | TiledGraphName, string>;
  for (const [graph, file] of Object.entries(all) as [GraphName | TiledGraphName, string][]) {
    const bytes = graphs[graph];
    if (!bytes) continue;
    await fs.writeFile(path.join(dir, file), bytes);
    files[file] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
  }
  for (const [file, bytes] of Object.entries(extraFiles)) {
    await fs.writeFile(path.join(dir, file), bytes);
    files[file] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
  }
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    name: info.name,
    version: info.version,
    preset: info.preset,
    config: info.config,
    input: { range: [-1, 1], channels: 'RGB', layout: 'NCHW', sizeMultiple: 4 },
    ...(info.training ? { training: info.training } : {}),
    opset: DEFAULT_OPSET,
    ...(info.tiling ? { tiling: info.tiling } : {}),
    ...(info.colourHead ? { colourHead: info.colourHead } : {}),
    ...(info.defaults ? { defaults: info.defaults } : {}),
    createdAt: new Date().toISOString(),
    files,
  };
  // Written through a temporary name so that a reader never sees a half-written manifest.
  const tmp = path.join(dir, `.${MANIFEST_FILE}.tmp-${process.pid}`);
  await fs.writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.rename(tmp, path.join(dir, MANIFEST_FILE));
  return manifest;
}

/**
 * Writes quality figures (from `peerstyle eval`) into a package's manifest. The manifest lists the
 * other files' hashes, not its own, so the package stays valid; it is rewritten through a temporary
 * file and a rename so that a crash never leaves half a manifest.
 */
export async function recordEval(dir: string, figures: Record<string, unknown>): Promise<void> {
  const manifest = await readManifest(dir);
  const updated = { ...manifest, eval: figures };
  const file = path.join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, `${JSON.stringify(updated, null, 2)}\n`);
  await fs.rename(tmp, file);
}
