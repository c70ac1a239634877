/**
 * The runtime configuration: the only module that reads `process.env` and command-line flags for the
 * embedded server, its workers and its drop folder, and the environment of the `peerstyle` command
 * itself (the trainer's variables are trainer/trainer-env.ts's, the AWS functions' handler-env.ts's).
 *
 * Every setting has a flag (`--workers=2` or `--workers 2`), an environment variable
 * (`PEERSTYLE_WORKERS`) and a default; a flag wins over the environment. Everything is validated before
 * anything starts, and every problem is reported at once, so a misconfigured deployment is fixed in one
 * round rather than one error per restart.
 */

import path from 'node:path';

/** Typed, validated settings for the local runtime. */
export interface RuntimeConfig {
  /** Folder for the database, blobs, training runs and the drop folder. @default ".peerstyle/data" */
  dataDir: string;
  /** HTTP port; 0 picks a free one. @default 4000 */
  port: number;
  /** Interface to listen on. @default "127.0.0.1" */
  host: string;
  /** Base URL clients reach the server at, for signed upload and download links. @default http://<host>:<port> */
  publicUrl: string;
  /** Worker loops in this process; 0 serves the API only. @default 1 */
  workers: number;
  /** Lease length; a worker that stops heartbeating loses its job after this long. @default 60 */
  leaseSeconds: number;
  /** Starts allowed per job before it fails with RETRIES_EXHAUSTED. @default 3 */
  maxAttempts: number;
  /** Most queued or running jobs per owner; more is QUOTA_EXCEEDED. @default 50 */
  maxActiveJobsPerOwner: number;
  /** Most queued or running training jobs per owner. @default 2 */
  maxActiveTrainingJobsPerOwner: number;
  /** Most training compute an owner may have queued or running, in TFLOP; more is BUDGET_EXCEEDED. @default 2000 */
  maxTrainingTflopPerOwner: number;
  /** Most memory one training iteration may need (estimated), in MiB; more is BUDGET_EXCEEDED. @default 8192 */
  maxTrainingMemoryMib: number;
  /**
   * How long a finished training job's folders (dataset copy, checkpoints, weights) are kept before
   * they are deleted, in hours; 0 deletes them at the next sweep. @default 24
   */
  trainingRetentionHours: number;
  /** Threads per inference in the stylize engine. @default 1 */
  intraOpThreads: number;
  /** Whether the GraphQL schema may be introspected (over HTTP). @default false */
  introspection: boolean;
  /** Folder whose sub-folders are the datasets offered for training by name. @default "<cwd>/datasets" */
  datasetsDir: string;
  /** The watched folder holding drop/, out/ and rejected/; null turns the drop folder off. @default "<dataDir>/dropbox" */
  dropDir: string | null;
  /** Owner of jobs made from dropped files. @default "local" */
  dropOwner: string;
  /** Largest file the drop folder accepts, in bytes. @default 20 MiB */
  dropMaxBytes: number;
  /** Interval between drop-folder scans, in milliseconds. @default 1000 */
  dropPollMs: number;
  /**
   * How long a dropped file's size and modification time must stay the same before it is taken, in
   * milliseconds; it is also seen unchanged by at least two polls. @default 2000
   */
  dropSettleMs: number;
  /** Secret for signed URLs; null makes the composition root create and keep one in the data folder. */
  signingSecret: string | null;
}

/** Raised with every configuration problem found. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

interface Setting {
  flag: string;
  env: string;
}

const SETTINGS = {
  dataDir: { flag: 'data-dir', env: 'PEERSTYLE_DATA_DIR' },
  port: { flag: 'port', env: 'PEERSTYLE_PORT' },
  host: { flag: 'host', env: 'PEERSTYLE_HOST' },
  publicUrl: { flag: 'public-url', env: 'PEERSTYLE_PUBLIC_URL' },
  workers: { flag: 'workers', env: 'PEERSTYLE_WORKERS' },
  leaseSeconds: { flag: 'lease-seconds', env: 'PEERSTYLE_LEASE_SECONDS' },
  maxAttempts: { flag: 'max-attempts', env: 'PEERSTYLE_MAX_ATTEMPTS' },
  maxActiveJobsPerOwner: { flag: 'max-active-jobs', env: 'PEERSTYLE_MAX_ACTIVE_JOBS' },
  maxActiveTrainingJobsPerOwner: { flag: 'max-active-training', env: 'PEERSTYLE_MAX_ACTIVE_TRAINING' },
  maxTrainingTflopPerOwner: { flag: 'max-training-tflop', env: 'PEERSTYLE_MAX_TRAINING_TFLOP' },
  maxTrainingMemoryMib: { flag: 'max-training-memory-mib', env: 'PEERSTYLE_MAX_TRAINING_MEMORY_MIB' },
  trainingRetentionHours: { flag: 'training-retention-hours', env: 'PEERSTYLE_TRAINING_RETENTION_HOURS' },
  intraOpThreads: { flag: 'intra-op-threads', env: 'PEERSTYLE_INTRA_OP_THREADS' },
  introspection: { flag: 'introspection', env: 'PEERSTYLE_INTROSPECTION' },
  datasetsDir: { flag: 'datasets-dir', env: 'PEERSTYLE_DATASETS_DIR' },
  dropDir: { flag: 'drop-dir', env: 'PEERSTYLE_DROP_DIR' },
  dropOwner: { flag: 'drop-owner', env: 'PEERSTYLE_DROP_OWNER' },
  dropMaxBytes: { flag: 'drop-max-bytes', env: 'PEERSTYLE_DROP_MAX_BYTES' },
  dropPollMs: { flag: 'drop-poll-ms', env: 'PEERSTYLE_DROP_POLL_MS' },
  dropSettleMs: { flag: 'drop-settle-ms', env: 'PEERSTYLE_DROP_SETTLE_MS' },
  signingSecret: { flag: 'signing-secret', env: 'PEERSTYLE_SIGNING_SECRET' },
} as const satisfies Record<keyof RuntimeConfig, Setting>;

const FLAGS = new Map<string, keyof RuntimeConfig>(
  Object.entries(SETTINGS).map(([key, s]) => [s.flag, key as keyof RuntimeConfig]),
);

/** Splits `--name=value`, `--name value`, `--flag` and `--no-flag` into raw strings, noting unknown flags. */
function readFlags(argv: readonly string[], problems: string[]): Map<keyof RuntimeConfig, string> {
  const raw = new Map<keyof RuntimeConfig, string>();
  const rest = [...argv];
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    if (!arg.startsWith('--')) {
      problems.push(`Unexpected argument "${arg}"; settings are given as --name=value.`);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined && name.startsWith('no-') && FLAGS.get(name.slice(3)) === 'introspection') {
      name = name.slice(3);
      value = 'false';
    }
    const key = FLAGS.get(name);
    if (key === undefined) {
      problems.push(`Unknown flag --${name}. Expected one of: ${[...FLAGS.keys()].map((f) => `--${f}`).join(', ')}.`);
      continue;
    }
    if (value === undefined) {
      if (key === 'introspection') value = 'true';
      else if (rest[0] !== undefined && !rest[0].startsWith('--')) {
        value = rest[0];
        rest.shift();
      } else {
        problems.push(`--${name} needs a value.`);
        continue;
      }
    }
    raw.set(key, value);
  }
  return raw;
}

/**
 * Reads and validates the runtime configuration from flags and environment.
 * @throws ConfigError listing every problem found.
 */
export function loadConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): RuntimeConfig {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);
  const source = (key: keyof RuntimeConfig): { value: string; from: string } | undefined => {
    const flag = flags.get(key);
    if (flag !== undefined) return { value: flag, from: `--${SETTINGS[key].flag}` };
    const fromEnv = env[SETTINGS[key].env];
    return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, from: SETTINGS[key].env } : undefined;
  };
  const integer = (key: keyof RuntimeConfig, fallback: number, min: number, max: number): number => {
    const given = source(key);
    if (given === undefined) return fallback;
    const n = Number(given.value);
    if (!/^-?\d+$/.test(given.value.trim()) || n < min || n > max) {
      problems.push(`${given.from} must be an integer in ${min}..${max}, got "${given.value}".`);
      return fallback;
    }
    return n;
  };
  const text = (key: keyof RuntimeConfig, fallback: string): string => {
    const given = source(key);
    if (given !== undefined && given.value.trim() === '') problems.push(`${given.from} must not be blank.`);
    return given?.value ?? fallback;
  };

  const dataDir = path.resolve(cwd, text('dataDir', path.join('.peerstyle', 'data')));
  const port = integer('port', 4000, 0, 65535);
  const host = text('host', '127.0.0.1');
  const publicUrl = text('publicUrl', `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(publicUrl))
    problems.push(`The public URL must start with http:// or https://, got "${publicUrl}".`);

  let introspection = false;
  const intro = source('introspection');
  if (intro !== undefined) {
    const v = intro.value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) introspection = true;
    else if (['false', '0', 'no', 'off'].includes(v)) introspection = false;
    else problems.push(`${intro.from} must be one of: true, false, 1, 0, yes, no, on, off; got "${intro.value}".`);
  }

  const dropGiven = source('dropDir');
  const dropOff = dropGiven !== undefined && ['off', 'none', 'false'].includes(dropGiven.value.trim().toLowerCase());
  const dropDir = dropOff ? null : path.resolve(cwd, dropGiven?.value ?? path.join(dataDir, 'dropbox'));

  const config: RuntimeConfig = {
    dataDir,
    port,
    host,
    publicUrl,
    workers: integer('workers', 1, 0, 64),
    leaseSeconds: integer('leaseSeconds', 60, 1, 12 * 60 * 60),
    maxAttempts: integer('maxAttempts', 3, 1, 20),
    maxActiveJobsPerOwner: integer('maxActiveJobsPerOwner', 50, 1, 100_000),
    maxActiveTrainingJobsPerOwner: integer('maxActiveTrainingJobsPerOwner', 2, 1, 1000),
    maxTrainingTflopPerOwner: integer('maxTrainingTflopPerOwner', 2000, 1, 1_000_000_000),
    maxTrainingMemoryMib: integer('maxTrainingMemoryMib', 8192, 1, 1024 * 1024 * 1024),
    trainingRetentionHours: integer('trainingRetentionHours', 24, 0, 24 * 365 * 10),
    intraOpThreads: integer('intraOpThreads', 1, 1, 256),
    introspection,
    datasetsDir: path.resolve(cwd, text('datasetsDir', 'datasets')),
    dropDir,
    dropOwner: text('dropOwner', 'local'),
    dropMaxBytes: integer('dropMaxBytes', 20 * 1024 * 1024, 1, 2 ** 31),
    dropPollMs: integer('dropPollMs', 1000, 50, 60 * 60 * 1000),
    dropSettleMs: integer('dropSettleMs', 2000, 0, 60 * 60 * 1000),
    signingSecret: source('signingSecret')?.value ?? null,
  };
  if (config.signingSecret !== null && config.signingSecret.length < 16) {
    problems.push(`The signing secret must be at least 16 characters, got ${config.signingSecret.length}.`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Settings of the `peerstyle` command itself. */
export interface CliConfig {
  /** Whether a failed command prints its stack trace after the message (PEERSTYLE_DEBUG set, not blank). */
  debug: boolean;
}

/** Reads the command's own settings from `env`, the process's own unless given. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return { debug: Boolean(env.PEERSTYLE_DEBUG) };
}

/** The environment a child process starts with: this process's, with `extra` laid over it. */
export function childProcessEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
