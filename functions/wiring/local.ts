/**
 * The local composition root: turns a `RuntimeConfig` into working ports and executors. It opens the one
 * SQLite database in the data folder, builds the local adapters on it, the stylize engine, the trainer
 * launcher and the hook that registers trained models. Servers, workers and the drop folder get
 * everything from here and construct no adapter themselves. The AWS functions and the stylize worker
 * container have their own root beside this one (aws.ts).
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  FsBlobStore,
  InProcessJobEvents,
  SqliteApiKeyStore,
  SqliteJobQueue,
  SqliteJobStore,
  SqliteModelRegistry,
  SqliteStyleStore,
  openSqliteDatabase,
  type SqliteDatabase,
} from '../adapters/local';
import { BLOB_PREFIXES, type Clock, type JobKind, type JsonObject } from '../core';
import type { StylizeEngine } from '../core/ports/stylize-engine';
import type { TrainerLauncher } from '../core/ports/trainer-launcher';
import type { TrainingRules } from '../core/ports/training-rules';
import type { RuntimeConfig } from '../config';
import { DropFolderWatcher } from '../local/drop-folder/drop-folder-watcher';
import { SqliteDropLedger } from '../local/drop-folder/sqlite-drop-ledger';
import { BlobModelCache } from '../worker/blob-model-cache';
import { createDatasetCopier, type DatasetCopier } from '../local/worker/dataset-copier';
import type { JobExecutor } from '../worker/job-executor';
import { ThreadedStylizeEngine } from '../worker/engine-thread/threaded-stylize-engine';
import { localBlobUrls } from '../local/http/local-blob-store';
import { ProcessTrainerLauncher } from '../local/worker/process-trainer-launcher';
import { registerTrainedPackage } from '../local/worker/register-trained-package';
import { createStylizeExecutor } from '../worker/stylize-executor';
import { createTrainExecutor, type ModelTrainedHook } from '../local/worker/train-executor';
import { startTrainingFilesJanitor, type TrainingFilesJanitor } from '../local/worker/training-files-janitor';
import type { WorkerOptions } from '../worker/worker';
import { TRAINER_RULES } from '../../trainer/training-rules';

/** Parts a caller may supply instead of the defaults (tests, benchmarks, other engines). */
export interface RuntimeOverrides {
  /** @default the onnxruntime engine, loaded at first use */
  engine?: StylizeEngine;
  /** @default a child process of `peerstyle train --sagemaker` per job */
  trainer?: TrainerLauncher;
  /** Extra environment for training child processes, e.g. `PEERSTYLE_BACKEND`. */
  trainerEnv?: NodeJS.ProcessEnv;
  /** @default the system clock */
  clock?: Clock;
  /** How the bundled model presents itself in `models` (from its package manifest). */
  builtInModel?: { name: string; createdAt: string; manifest: JsonObject };
}

/** Everything the local runtime is built from. */
export interface LocalRuntime {
  config: RuntimeConfig;
  db: SqliteDatabase;
  jobs: SqliteJobStore;
  queue: SqliteJobQueue;
  events: InProcessJobEvents;
  blobs: FsBlobStore;
  styles: SqliteStyleStore;
  models: SqliteModelRegistry;
  apiKeys: SqliteApiKeyStore;
  trainingRules: TrainingRules;
  engine: StylizeEngine;
  trainer: TrainerLauncher;
  onModelTrained: ModelTrainedHook;
  copyDataset: DatasetCopier;
  executors: Readonly<Record<JobKind, JobExecutor>>;
  /** The drop-folder watcher for `config.dropDir` (not started), or null when the drop folder is off. */
  dropFolder(options?: { onError?: (error: unknown) => void }): DropFolderWatcher | null;
  /**
   * Starts the janitor that deletes finished training jobs' folders after `config.trainingRetentionHours`
   * (see `training-files-janitor`); its first sweep runs at once.
   */
  startTrainingFilesJanitor(options?: { onError?: (error: unknown) => void }): TrainingFilesJanitor;
  /** The ports and settings a `Worker` needs, ready to spread into its options. */
  workerOptions(): Omit<WorkerOptions, 'id'>;
  /** Closes the database; stop workers and servers first. */
  close(): void;
}

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;

/** Reads the signing secret from the data folder, creating one on first start so links survive restarts. */
function signingSecret(config: RuntimeConfig): string {
  if (config.signingSecret !== null) return config.signingSecret;
  const file = path.join(config.dataDir, 'signing-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

/** Builds the local runtime's ports and executors from `config`. */
export function createLocalRuntime(config: RuntimeConfig, overrides: RuntimeOverrides = {}): LocalRuntime {
  // A new data folder is owner-only; an existing one keeps its mode (it may be a folder the user chose),
  // while the database file and the blob folders inside are tightened by their adapters.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const clock = overrides.clock ? { clock: overrides.clock } : {};
  const db = openSqliteDatabase(path.join(config.dataDir, 'peerstyle.sqlite'));
  const queue = new SqliteJobQueue(db, { maxAttempts: config.maxAttempts, ...clock });
  // One transaction writes a new job and its queue message, so a crash between them strands nothing.
  const jobs = new SqliteJobStore(db, { ...clock, queue });
  const events = new InProcessJobEvents();
  const blobs = new FsBlobStore({
    root: path.join(config.dataDir, 'blobs'),
    signingSecret: signingSecret(config),
    // The same routes the API server serves (functions/local/http), so links signed here resolve there.
    ...localBlobUrls(config.publicUrl),
    ...clock,
  });
  const styles = new SqliteStyleStore(db, clock);
  const models = new SqliteModelRegistry(db, {
    ...clock,
    ...(overrides.builtInModel
      ? {
          defaultName: overrides.builtInModel.name,
          defaultCreatedAt: overrides.builtInModel.createdAt,
          defaultManifest: overrides.builtInModel.manifest,
        }
      : {}),
  });
  const apiKeys = new SqliteApiKeyStore(db, clock);
  const modelCache = new BlobModelCache(blobs, models, path.join(config.dataDir, 'model-cache'));
  // On a thread of its own: a graph run holds the thread that calls it, and this one serves the API.
  const engineThread =
    overrides.engine === undefined
      ? new ThreadedStylizeEngine({
          resolveModelDir: (model) => modelCache.dirFor(model),
          intraOpThreads: config.intraOpThreads,
        })
      : undefined;
  const engine = overrides.engine ?? engineThread!;
  const trainingDir = path.join(config.dataDir, 'training');
  // Where versions before the single dataset copy downloaded uploads; only the janitor still looks here.
  const legacyTrainingDataDir = path.join(config.dataDir, 'training-data');
  const trainer =
    overrides.trainer ?? new ProcessTrainerLauncher({ jobsDir: trainingDir, env: overrides.trainerEnv ?? {} });
  // Registers the package the trainer exported into its model folder, as the AWS runtime does.
  const onModelTrained: ModelTrainedHook = registerTrainedPackage({ jobs, models, blobs });
  const copyDataset = createDatasetCopier({ blobs, datasetsDir: config.datasetsDir });
  const executors: Record<JobKind, JobExecutor> = {
    STYLIZE: createStylizeExecutor({ blobs, engine, models, outputPrefix: BLOB_PREFIXES.results }),
    TRAIN: createTrainExecutor({ launcher: trainer, onModelTrained, copyDataset }),
  };
  return {
    config,
    db,
    jobs,
    queue,
    events,
    blobs,
    styles,
    models,
    apiKeys,
    trainingRules: TRAINER_RULES,
    engine,
    trainer,
    onModelTrained,
    copyDataset,
    executors,
    dropFolder: (options = {}) =>
      config.dropDir === null
        ? null
        : new DropFolderWatcher({
            root: config.dropDir,
            jobs,
            queue,
            blobs,
            styles,
            ledger: new SqliteDropLedger(db),
            owner: config.dropOwner,
            maxBytes: config.dropMaxBytes,
            pollMs: config.dropPollMs,
            settleMs: config.dropSettleMs,
            maxAttempts: config.maxAttempts,
            ...options,
          }),
    startTrainingFilesJanitor: (options = {}) => {
      const retentionMs = config.trainingRetentionHours * 60 * 60 * 1000;
      return startTrainingFilesJanitor({
        jobs,
        roots: [trainingDir, legacyTrainingDataDir],
        retentionMs,
        // Often enough that nothing outstays its retention by much, and at most once a minute.
        intervalMs: Math.min(HOUR_MS, Math.max(MINUTE_MS, retentionMs)),
        ...(overrides.clock ? { clock: overrides.clock } : {}),
        ...options,
      });
    },
    workerOptions: () => ({ jobs, queue, events, executors, leaseSeconds: config.leaseSeconds }),
    close: () => {
      void engineThread?.close();
      db.close();
    },
  };
}
