/**
 * `publishTrainedModel`: makes the package a finished training run exported into a registered model
 * that `stylize` can use. Both runtimes end a TRAIN job here: the local train executor with the run's
 * model folder, the AWS state-change handler with the run's `model.tar.gz`; in both the trainer itself
 * exported the package (`peerstyle train --sagemaker` does on a completed run), so nothing is exported
 * twice.
 *
 * Only the package is copied: `manifest.json` and the files its `files` table lists (the graphs and the
 * weights a fine-tuning run starts from). It goes under `models/<id>/<version>/` (the registry's one
 * layout), manifest last, so a half-copied package fails to load with a clear message instead of
 * loading graphs from two versions.
 *
 * Safe to repeat, because a runner may be retried at any step (an EventBridge redelivery, a worker
 * that died before finishing the job): the model id is recorded on the job (`trainedModelId`) before
 * anything is copied, the first id recorded stays, and the registry registers an id once. A repeat
 * therefore finds the id on the job and either returns the model already registered under it or
 * finishes registering that same model, whatever the job's messages say.
 *
 * The id and the two messages (publishing, registered) are written without an event of their own: a
 * local subscriber sees the job's stages as before and gets the messages with the next event, and on
 * AWS every write reaches subscribers through the jobs table's stream anyway.
 */

import { DomainError, ErrorCode } from '../errors';
import type { Job } from '../job';
import { isRecord, type JsonObject } from '../json';
import type { BlobStore } from '../ports/blob-store';
import type { JobStore } from '../ports/job-store';
import type { ModelInfo, ModelRegistry } from '../ports/model-registry';
import { trainingInputOf } from './training-input';

/** The file that marks a folder as a model package; trainer/export/package-format.ts takes it from here. */
export const MANIFEST_FILE_NAME = 'manifest.json';

/** A package as a training run left it, read file by file. */
export interface PackageSource {
  /** Names the package in messages: the artifact's key, or the run's model folder as its owner knows it. */
  description: string;
  /** The bytes of a top-level file of the package, or null when there is no such file. */
  read(name: string): Promise<Uint8Array | null>;
}

/** What `publishTrainedModel` uses. */
export interface PublishDeps {
  jobs: JobStore;
  models: ModelRegistry;
  /** Where packages are stored (on AWS, the models bucket). */
  blobs: BlobStore;
}

/** A plain file name: the manifest may name nothing outside the package's own prefix. */
const FILE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

/**
 * Reads a package manifest: its parsed fields and the files its `files` table lists (without the
 * manifest itself). INTERNAL when it is not JSON or names a file outside the package.
 */
export function readPackageManifest(
  bytes: Uint8Array,
  description: string,
): { manifest: Record<string, unknown>; files: string[] } {
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    manifest = null;
  }
  if (!isRecord(manifest) || !isRecord(manifest.files)) {
    throw new DomainError(
      ErrorCode.INTERNAL,
      `${description} has a ${MANIFEST_FILE_NAME} without a files table: it is not a model package.`,
    );
  }
  const files = Object.keys(manifest.files).filter((name) => name !== MANIFEST_FILE_NAME);
  const outside = files.find((name) => !FILE_NAME.test(name));
  if (outside !== undefined) {
    throw new DomainError(
      ErrorCode.INTERNAL,
      `${description} lists ${JSON.stringify(outside)} in its ${MANIFEST_FILE_NAME}, which is not a plain file name.`,
    );
  }
  return { manifest, files };
}

/**
 * Registers the package `source` holds as the model of TRAIN job `job`, under the name the job asked
 * for. `facts` join the manifest summary shown in listings (the steps trained, the SageMaker run).
 * Returns the job as last recorded and the model.
 */
export async function publishTrainedModel(
  deps: PublishDeps,
  job: Job,
  source: PackageSource,
  facts: JsonObject = {},
): Promise<{ job: Job; model: ModelInfo }> {
  const input = trainingInputOf(job);
  if (job.trainedModelId !== undefined) {
    const known = await deps.models.get(job.trainedModelId, job.owner);
    if (known !== null) return { job, model: known };
  }
  const manifestBytes = await source.read(MANIFEST_FILE_NAME);
  if (manifestBytes === null) {
    throw new DomainError(
      ErrorCode.INTERNAL,
      `${source.description} holds no ${MANIFEST_FILE_NAME}: the training run did not export a model package.`,
    );
  }
  const { manifest, files } = readPackageManifest(manifestBytes, source.description);
  if (job.trainedModelId === undefined) {
    job = await deps.jobs.updateProgress(job.id, {
      stage: 'publishing model',
      trainedModelId: deps.models.newId(),
      message: { level: 'INFO', text: `Publishing the trained model from ${source.description}.` },
    });
  }
  // The id the store kept: ours, or that of a concurrent delivery that recorded one first.
  const id = job.trainedModelId as string;
  const summary: JsonObject = {
    format: 'onnx-package',
    preset: typeof manifest.preset === 'string' ? manifest.preset : input.preset,
    ...(typeof manifest.version === 'string' ? { packageVersion: manifest.version } : {}),
    files: [...files, MANIFEST_FILE_NAME].sort(),
    ...facts,
  };
  const model = await deps.models.register(
    { id, name: input.modelName, owner: job.owner, manifest: summary },
    async (prefix) => {
      for (const name of files) {
        const bytes = await source.read(name);
        if (bytes === null) {
          throw new DomainError(
            ErrorCode.INTERNAL,
            `${source.description} lists ${name} in its ${MANIFEST_FILE_NAME} but holds no such file.`,
          );
        }
        await deps.blobs.put(prefix + name, bytes);
      }
      await deps.blobs.put(prefix + MANIFEST_FILE_NAME, manifestBytes);
    },
  );
  job = await deps.jobs.updateProgress(job.id, {
    stage: 'registering model',
    message: {
      level: 'INFO',
      text: `Registered model ${model.id} (version ${model.version}) from ${model.packagePrefix}.`,
    },
  });
  return { job, model };
}
