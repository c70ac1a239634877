/**
 * The `onModelTrained` hook the runtime uses: exports the trained weights to an ONNX model package with
 * `peerstyle export` in a child process, then stores and registers the package, so the new model can
 * stylize at once. The export runs out of process because it loads TF.js and the ONNX builder, which a
 * worker otherwise never needs, and a crash there must not take the worker down.
 */

import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DomainError, ErrorCode } from '../../core';
import type { BlobStore, JsonValue, ModelRegistry } from '../../core';
import { registerModelFolder } from './register-model-folder';
import type { ModelTrainedHook, TrainedModel } from './train-executor';

const run = promisify(execFile);

/** Options for `exportAndRegister`. */
export interface ExportAndRegisterOptions {
  blobs: BlobStore;
  models: ModelRegistry;
  /** The `peerstyle` entry point. @default bin/peerstyle.js of this checkout */
  bin?: string;
}

/** Builds a hook that exports the weights beside the model folder (`../package`) and registers the package. */
export function exportAndRegister(options: ExportAndRegisterOptions): ModelTrainedHook {
  const bin = options.bin ?? path.join(__dirname, '..', '..', '..', 'bin', 'peerstyle.js');
  return async ({ job, modelDir, name, lastStep }: TrainedModel): Promise<JsonValue> => {
    const packageDir = path.join(path.dirname(modelDir), 'package');
    await fs.rm(packageDir, { recursive: true, force: true });
    // The name is the user's text: it goes in a file, never on the command line, where a name
    // starting with "--" would be read as an option. Only server-made paths are arguments.
    const optionsFile = path.join(path.dirname(modelDir), 'export-options.json');
    await fs.writeFile(optionsFile, JSON.stringify({ name }));
    try {
      await run(process.execPath, [
        bin,
        'export',
        '--checkpoint',
        modelDir,
        '--out',
        packageDir,
        '--options',
        optionsFile,
      ]);
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
      throw new DomainError(ErrorCode.INTERNAL, `Exporting the trained model failed: ${stderr || String(error)}`, {
        jobId: job.id,
      });
    }
    const manifest = JSON.parse(await fs.readFile(path.join(packageDir, 'manifest.json'), 'utf8')) as {
      preset?: unknown;
      version?: unknown;
    };
    const model = await registerModelFolder(options, {
      job,
      dir: packageDir,
      name,
      manifest: {
        format: 'onnx-package',
        steps: lastStep,
        ...(typeof manifest.preset === 'string' ? { preset: manifest.preset } : {}),
        ...(typeof manifest.version === 'string' ? { packageVersion: manifest.version } : {}),
      },
      requiredFile: 'manifest.json',
    });
    return { modelId: model.id, version: model.version, packagePrefix: model.packagePrefix };
  };
}
