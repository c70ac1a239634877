/**
 * `peerstyle export`: turns the weights of a training run (its model/ folder, the run folder itself, or
 * a checkpoint folder) into a model package the engine can load: encoder.onnx, tpfr.onnx, decoder.onnx
 * and manifest.json. With `--verify`, TF.js and onnxruntime are then compared stage by stage on two
 * real images with the exported weights, and the command fails when they differ by more than 1e-4.
 * Several `--checkpoint`s of one run export the mean of their weights (trainer/export/average-weights.ts).
 */
import path from 'node:path';

import { initBackend } from '../../../trainer/backend';
import { averageModels } from '../../../trainer/export/average-weights';
import { exportModel, readModelSource, type LoadedModel } from '../../../trainer/export/model-export';
import { RENDER_SCALE_RANGE, SIZE_RANGE } from '../../core/stylize-input';
import {
  CONDITION_SIDE_RANGE,
  conditionSideProblem,
  STRUCTURE_MODES,
  type StructureMode,
} from '../../../trainer/export/package-format';
import { conditionSideFlag, renderScaleFlag, styleSizeFlag } from '../engine-option-flags';
import { createModel } from '../../../trainer/model';
import { ConfigError, RENDERING_KEYS, withRenderingSettings } from '../../../trainer/config';
import { checkParity } from '../../../trainer/export/parity';
import { parseArgs, usage, UsageError, type FlagSpec } from '../args';
import { readExportOptions } from '../export-options';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: {
    type: 'list',
    description: 'run folder, its model/ folder, or a checkpoint folder; repeat to export the mean of several',
  },
  out: { type: 'string', description: 'folder to write the model package to' },
  name: { type: 'string', description: 'model name in the manifest (default peerstyle-tspr)' },
  version: { type: 'string', description: 'model version in the manifest (default 0.1.0)' },
  'structure-default': {
    type: 'string',
    description: 'keep or transfer: the structure mode stylize uses when a request does not say',
  },
  'style-size-default': {
    type: 'string',
    description: `long side in px the style images are resampled to when stylize is not told (${SIZE_RANGE[0]}-${SIZE_RANGE[1]})`,
  },
  'render-scale-default': {
    type: 'string',
    description: `how many times the output's size stylize works at when not told (${RENDER_SCALE_RANGE[0]}-${RENDER_SCALE_RANGE[1]})`,
  },
  'condition-side-default': {
    type: 'string',
    description: `with styleModulation: read the decoders' style condition from the content resized to the area of a square of this side in px (${CONDITION_SIDE_RANGE[0]}-${CONDITION_SIDE_RANGE[1]}; default: the run's cropSize, the size it was trained at)`,
  },
  set: {
    type: 'list',
    description: `key=value: change how the weights render without retraining (${RENDERING_KEYS.join(', ')}); repeat for several`,
  },
  options: {
    type: 'string',
    description: 'JSON file with name, version and/or structureDefault (instead of those flags)',
  },
  verify: { type: 'boolean', description: 'compare TF.js and onnxruntime stage by stage on two sample images' },
  help: { type: 'boolean', description: 'show this help' },
};

export async function exportCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage('export', 'export trained weights as an ONNX model package', FLAGS));
    return 0;
  }
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  const sources = (flags.checkpoint as string[] | undefined) ?? [];
  if (sources.length === 0) throw new UsageError('--checkpoint <dir> is required.');
  if (typeof flags.out !== 'string') throw new UsageError('--out <dir> is required.');
  const file = typeof flags.options === 'string' ? await readExportOptions(flags.options) : {};
  for (const [flag, key] of [
    ['name', 'name'],
    ['version', 'version'],
    ['structure-default', 'structureDefault'],
  ] as const) {
    if (flags[flag] !== undefined && file[key] !== undefined)
      throw new UsageError(`--${flag} and the options file's "${key}" both set it; give one.`);
  }
  const name = (flags.name as string | undefined) ?? file.name;
  const version = (flags.version as string | undefined) ?? file.version;
  const structure = (flags['structure-default'] as string | undefined) ?? file.structureDefault;
  if (structure !== undefined && !(STRUCTURE_MODES as readonly string[]).includes(structure))
    throw new UsageError(`--structure-default must be keep or transfer, got "${structure}".`);
  const styleSize = styleSizeFlag('style-size-default', flags['style-size-default']);
  const renderScale = renderScaleFlag('render-scale-default', flags['render-scale-default']);
  const conditionSide = conditionSideFlag('condition-side-default', flags['condition-side-default']);
  const defaults = {
    ...(structure ? { structure: structure as StructureMode } : {}),
    ...(styleSize !== undefined ? { styleSize } : {}),
    ...(renderScale !== undefined ? { renderScale } : {}),
    ...(conditionSide !== undefined ? { conditionSide } : {}),
  };
  const outDir = path.resolve(flags.out);
  const loaded = averageModels(await Promise.all(sources.map((s) => readModelSource(path.resolve(s)))));
  let model: LoadedModel;
  try {
    model = { ...loaded, cfg: withRenderingSettings(loaded.cfg, (flags.set as string[] | undefined) ?? []) };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`--set: ${error.message}`);
    throw error;
  }
  // The command always writes the tiled graphs, which is what a fixed condition side needs.
  const conditionProblem = conditionSideProblem(model.cfg, true, conditionSide);
  if (conditionProblem) throw new UsageError(`--condition-side-default: ${conditionProblem}`);
  const manifest = await exportModel(model, outDir, {
    name,
    version,
    ...(Object.keys(defaults).length > 0 ? { defaults } : {}),
  });
  const bytes = Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0);
  process.stdout.write(
    `Exported ${manifest.name} ${manifest.version} (preset ${manifest.preset}, ngf ${manifest.config.ngf}) to ${outDir}: ` +
      `${Object.keys(manifest.files).join(', ')}, ${(bytes / 1e6).toFixed(2)} MB` +
      (sources.length > 1 ? `, the mean of ${sources.length} checkpoints (iterations ${averaged(model)})` : '') +
      (flags.set ? `, with ${(flags.set as string[]).join(', ')}` : '') +
      '.\n',
  );
  return flags.verify ? verify(model, outDir) : 0;
}

/** Largest difference tolerated between TF.js and onnxruntime at any stage. */
const PARITY_TOLERANCE = 1e-4;
const SAMPLE = path.join(__dirname, '..', '..', '..', 'datasets', 'sample');

function averaged(model: LoadedModel): string {
  return (model.training?.averagedIterations ?? []).map((n) => n.toLocaleString('en-US')).join(', ');
}

async function verify(model: LoadedModel, outDir: string): Promise<number> {
  await initBackend('cpu');
  const store = createModel(model.cfg, 0);
  try {
    store.load(model.params);
    const report = await checkParity(
      outDir,
      store,
      model.cfg,
      path.join(SAMPLE, 'content', 'chelsea.jpg'),
      path.join(SAMPLE, 'style', 'starry-night.jpg'),
    );
    const worst = Math.max(report.encoder, report.tpfr, report.decoder);
    process.stdout.write(
      `Parity TF.js (cpu) vs onnxruntime, max |difference|: encoder ${report.encoder.toExponential(2)}, ` +
        `TPFR ${report.tpfr.toExponential(2)} (${report.rows - report.ambiguousRows} of ${report.rows} rows; ` +
        `${report.ambiguousRows} with a K-th neighbour tied within rounding), decoder ${report.decoder.toExponential(2)} ` +
        `(${worst <= PARITY_TOLERANCE ? 'ok' : 'FAILED'}: tolerance ${PARITY_TOLERANCE}).\n`,
    );
    return worst <= PARITY_TOLERANCE ? 0 : 1;
  } finally {
    store.dispose();
  }
}
