/**
 * The embedded platform on one machine: the API server (GraphQL over HTTP and WebSocket, uploads,
 * downloads, the playground) on one port, the worker pool in this process, and the drop-folder watcher,
 * all on the SQLite database and blob folder under the data folder. `peerstyle serve` and `npm start`
 * run it; tests start it in process with `startPlatform`.
 *
 * The bundled model package is copied into the blob store under the built-in model's prefix at start,
 * because workers load every model, built-in or trained, the same way: from the blob store. On the first
 * start an API key is created and printed once, so a fresh installation is usable without another
 * command. A second start reuses the data folder: queued jobs, and jobs whose worker was stopped, run.
 */

import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { FsBlobStore } from '../adapters/local';
import { builtInModelInfo, builtInModelOptions, type JsonObject } from '../core';
import { loadConfig, type RuntimeConfig } from '../config';
import { DEFAULT_LIMITS, type UseCaseLimits } from '../core/use-cases';
import { createLocalRuntime, type LocalRuntime, type RuntimeOverrides } from '../wiring/local';
import type { DropFolderWatcher } from './drop-folder/drop-folder-watcher';
import { createApiServer, GRAPHQL_PATH, localBlobUrls, type ApiServer } from './http';
import { createPlaygroundRoute, PLAYGROUND_PATH } from './playground/playground-route';
import { listenForStopSignal } from './stop-signal';
import type { TrainingFilesJanitor } from './worker/training-files-janitor';
import { startWorkerPool, type WorkerPool } from './worker/worker-pool';

/** Where the bundled model package lives in the source tree. */
export const BUNDLED_MODEL_DIR = path.join(__dirname, '..', '..', 'models', 'default');

/** GraphQL requests each owner may make per minute; generous, since the embedded server has one user. */
const REQUESTS_PER_MINUTE = 600;

/** Options for `startPlatform`. */
export interface PlatformOptions {
  config: RuntimeConfig;
  /** Folder of the model package to serve as the built-in model; null keeps whatever is stored. @default BUNDLED_MODEL_DIR */
  modelDir?: string | null;
  /** Parts to use instead of the defaults (see `createLocalRuntime`). */
  overrides?: RuntimeOverrides;
  /** Where status lines and background errors go. @default stdout and stderr */
  log?: { info(line: string): void; error(line: string): void };
}

/** A running platform. */
export interface Platform {
  runtime: LocalRuntime;
  /** The base URL clients use, e.g. "http://127.0.0.1:4000". */
  origin: string;
  graphqlUrl: string;
  playgroundUrl: string;
  /** The key created on first start (shown once), or null when keys already existed. */
  createdApiKey: string | null;
  /** Stops accepting, stops the workers (their jobs go back to the queue) and closes the database. */
  stop(): Promise<void>;
}

const defaultLog: NonNullable<PlatformOptions['log']> = {
  info: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Makes the blob store hold exactly `modelDir`'s files under the built-in model's prefix. Unchanged
 * files are left alone, so restarts are cheap; when anything changed, the workers' local copy of the
 * built-in package is dropped so the next job loads the new one.
 */
/**
 * The bundled package's name, date and a summary of its manifest, for the `models` query; undefined
 * when the folder has no readable manifest (installBuiltInModel then reports the problem).
 */
async function describePackage(
  modelDir: string,
): Promise<{ name: string; createdAt: string; manifest: JsonObject } | undefined> {
  try {
    const manifest = JSON.parse(await fs.readFile(path.join(modelDir, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const info = builtInModelInfo(builtInModelOptions(manifest));
    return { name: info.name, createdAt: info.createdAt, manifest: info.manifest };
  } catch {
    return undefined;
  }
}

async function installBuiltInModel(runtime: LocalRuntime, modelDir: string): Promise<void> {
  const files = await fs.readdir(modelDir, { withFileTypes: true }).catch((error: unknown) => {
    throw new Error(
      `The model package folder ${modelDir} cannot be read (${(error as Error).message}). ` +
        'Pass --model <dir> with an exported model package (see `peerstyle export`).',
    );
  });
  const names = files.filter((entry) => entry.isFile()).map((entry) => entry.name);
  if (!names.includes('manifest.json')) {
    throw new Error(`${modelDir} is not a model package: it has no manifest.json.`);
  }
  const builtIn = await runtime.models.getDefault();
  let changed = false;
  for (const name of names) {
    const bytes = await fs.readFile(path.join(modelDir, name));
    const key = builtIn.packagePrefix + name;
    const stored = await runtime.blobs.head(key);
    if (stored !== null && stored.size === bytes.length && sha256(await runtime.blobs.get(key)) === sha256(bytes))
      continue;
    await runtime.blobs.put(key, bytes);
    changed = true;
  }
  let cursor: string | undefined;
  do {
    const page = await runtime.blobs.list({ prefix: builtIn.packagePrefix, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const info of page.items) {
      if (names.includes(info.key.slice(builtIn.packagePrefix.length))) continue;
      await runtime.blobs.delete(info.key);
      changed = true;
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  // The composition root's model cache keeps one folder per model id under <dataDir>/model-cache.
  if (changed) {
    await fs.rm(path.join(runtime.config.dataDir, 'model-cache', encodeURIComponent(builtIn.id)), {
      recursive: true,
      force: true,
    });
  }
}

/** The dataset folders offered to training by name: the sub-folders of `datasetsDir`, if it exists. */
async function datasetFolders(datasetsDir: string): Promise<string[]> {
  const entries = await fs.readdir(datasetsDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * The signing secret the composition root uses, so that links signed by the API server and by the
 * runtime's store verify against each other. The runtime keeps it in the data folder unless configured.
 */
function signingSecretOf(config: RuntimeConfig): string {
  return config.signingSecret ?? readFileSync(path.join(config.dataDir, 'signing-secret'), 'utf8').trim();
}

/** Starts the API server, workers and drop folder on `options.config`. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config } = options;
  const log = options.log ?? defaultLog;
  const modelDir = options.modelDir === undefined ? BUNDLED_MODEL_DIR : options.modelDir;
  const builtInModel = modelDir === null ? undefined : await describePackage(modelDir);
  const runtime = createLocalRuntime(config, { ...(builtInModel ? { builtInModel } : {}), ...options.overrides });
  let server: ApiServer | undefined;
  let pool: WorkerPool | undefined;
  let watcher: DropFolderWatcher | null = null;
  let janitor: TrainingFilesJanitor | undefined;

  const stop = async (): Promise<void> => {
    await janitor?.stop();
    await watcher?.stop();
    await server?.close();
    await pool?.stop();
    runtime.close();
  };

  try {
    if (modelDir !== null) await installBuiltInModel(runtime, modelDir);

    const limits: UseCaseLimits = {
      ...DEFAULT_LIMITS,
      datasetFolders: await datasetFolders(config.datasetsDir),
      maxActiveJobsPerOwner: config.maxActiveJobsPerOwner,
      maxActiveTrainingJobsPerOwner: config.maxActiveTrainingJobsPerOwner,
      maxAttempts: config.maxAttempts,
      maxTrainingFlopsPerOwner: config.maxTrainingTflopPerOwner * 1e12,
      maxTrainingMemoryBytes: config.maxTrainingMemoryMib * 1024 * 1024,
    };
    const playground = createPlaygroundRoute();
    server = createApiServer({
      ports: runtime,
      // With port 0 the configured public URL cannot name the port, so signed links use the real origin.
      blobs: (origin) =>
        new FsBlobStore({
          root: path.join(config.dataDir, 'blobs'),
          signingSecret: signingSecretOf(config),
          ...localBlobUrls(new URL(config.publicUrl).port === '0' ? origin : config.publicUrl),
        }),
      config: {
        limits,
        requestsPerMinute: REQUESTS_PER_MINUTE,
        introspection: config.introspection,
        log: (message, error) =>
          log.error(
            `peerstyle: ${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          ),
      },
      routes: playground,
    });
    const listened = await server.listen(config.port, config.host);
    const origin = new URL(config.publicUrl).port === '0' ? listened : config.publicUrl;

    if (config.workers > 0) pool = startWorkerPool(config.workers, runtime.workerOptions());
    janitor = runtime.startTrainingFilesJanitor({
      onError: (error) =>
        log.error(`peerstyle training files: ${error instanceof Error ? error.message : String(error)}`),
    });
    watcher = runtime.dropFolder({
      onError: (error) => log.error(`peerstyle drop folder: ${error instanceof Error ? error.message : String(error)}`),
    });
    await watcher?.start();

    // Keys are per owner; the first start gives the local owner (who also owns dropped files) a key.
    const existing = await runtime.apiKeys.list(config.dropOwner);
    const createdApiKey =
      existing.length === 0 ? (await runtime.apiKeys.create(config.dropOwner, 'first start')).key : null;

    return {
      runtime,
      origin,
      graphqlUrl: `${origin}${GRAPHQL_PATH}`,
      playgroundUrl: `${origin}${PLAYGROUND_PATH}`,
      createdApiKey,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * Runs the platform until SIGTERM or SIGINT, then shuts down and resolves with the exit code: 0 after
 * a clean stop. A second signal during shutdown exits at once, for a stop that hangs.
 */
export async function serve(
  argv: readonly string[],
  options: { modelDir?: string | null; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number> {
  const stopSignal = listenForStopSignal();
  // Unset options fall to the configuration module's defaults: the process's environment and folder.
  const config = loadConfig(argv, options.env, options.cwd);
  const platform = await startPlatform({ config, modelDir: options.modelDir });
  const lines = [
    `Peerstyle is running (data folder ${config.dataDir}).`,
    `GraphQL:    ${platform.graphqlUrl}`,
    `Playground: ${platform.playgroundUrl}`,
    `Workers:    ${config.workers}`,
    `Drop folder: ${config.dropDir === null ? 'off' : config.dropDir}`,
  ];
  if (platform.createdApiKey !== null) {
    lines.push(`API key for "${config.dropOwner}" (shown once; keep it): ${platform.createdApiKey}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  const signal = await stopSignal;
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.stdout.write(`Received ${signal}; stopping.\n`);
  await platform.stop();
  process.stdout.write('Stopped.\n');
  return 0;
}

if (require.main === module) {
  serve(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`peerstyle: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
