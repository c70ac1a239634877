/**
 * `peerstyle export`: turns the weights of a training run (its model/ folder, the run folder itself, or
 * a checkpoint folder) into a model package the engine can load: encoder.onnx, tpfr.onnx, decoder.onnx
 * and manifest.json.
 */
import path from 'node:path';

import { exportModel } from '../../../trainer/export/model-export';
import { parseArgs, usage, UsageError, type FlagSpec } from '../args';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: { type: 'string', description: 'run folder, its model/ folder, or a checkpoint folder' },
  out: { type: 'string', description: 'folder to write the model package to' },
  name: { type: 'string', description: 'model name in the manifest (default peerstyle-tspr)' },
  version: { type: 'string', description: 'model version in the manifest (default 0.1.0)' },
  help: { type: 'boolean', description: 'show this help' },
};

export async function exportCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage('export', 'export trained weights as an ONNX model package', FLAGS));
    return 0;
  }
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  if (typeof flags.checkpoint !== 'string') throw new UsageError('--checkpoint <dir> is required.');
  if (typeof flags.out !== 'string') throw new UsageError('--out <dir> is required.');
  const outDir = path.resolve(flags.out);
  const manifest = await exportModel(path.resolve(flags.checkpoint), outDir, {
    name: flags.name as string | undefined,
    version: flags.version as string | undefined,
  });
  const bytes = Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0);
  process.stdout.write(
    `Exported ${manifest.name} ${manifest.version} (preset ${manifest.preset}, ngf ${manifest.config.ngf}) to ${outDir}: ` +
      `${Object.keys(manifest.files).join(', ')}, ${(bytes / 1e6).toFixed(2)} MB.\n`,
  );
  return 0;
}
