/**
 * The Lambda handlers' only reader of `process.env`: the variable names the stack sets (mirroring
 * `ENV` in infra/lib/handlers.ts, which is not imported so that no infrastructure code ships in a
 * function bundle; a test compares the two) and one function that reads a handler's variables once,
 * reporting every missing one together.
 */

/** Environment variables the stack sets on the functions. */
export const HANDLER_ENV = {
  uploadsBucket: 'PEERSTYLE_UPLOADS_BUCKET',
  resultsBucket: 'PEERSTYLE_RESULTS_BUCKET',
  modelsBucket: 'PEERSTYLE_MODELS_BUCKET',
  datasetsBucket: 'PEERSTYLE_DATASETS_BUCKET',
  jobsTable: 'PEERSTYLE_JOBS_TABLE',
  jobsByOwnerIndex: 'PEERSTYLE_JOBS_BY_OWNER_INDEX',
  apiKeysTable: 'PEERSTYLE_API_KEYS_TABLE',
  catalogTable: 'PEERSTYLE_CATALOG_TABLE',
  stylizeQueueUrl: 'PEERSTYLE_STYLIZE_QUEUE_URL',
  connectionsTable: 'PEERSTYLE_WS_CONNECTIONS_TABLE',
  subscriptionsTable: 'PEERSTYLE_WS_SUBSCRIPTIONS_TABLE',
  subscriptionsByTopicIndex: 'PEERSTYLE_WS_SUBSCRIPTIONS_BY_TOPIC_INDEX',
  webSocketCallbackUrl: 'PEERSTYLE_WS_CALLBACK_URL',
} as const;

/** A setting a handler may read. */
export type HandlerSetting = keyof typeof HANDLER_ENV;

/** The values of the required settings, and of the optional ones that are set. */
export type HandlerSettings<R extends HandlerSetting, O extends HandlerSetting> = { [K in R]: string } & {
  [K in O]?: string;
};

/** A handler started without the configuration it needs; the stack and the handler disagree. */
export class HandlerConfigError extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`Missing environment variables: ${missing.join(', ')}.`);
    this.name = 'HandlerConfigError';
  }
}

/**
 * Reads `required` and `optional` settings from `env`. Empty values count as missing, since the
 * stack never sets one on purpose.
 */
export function readHandlerEnv<R extends HandlerSetting, O extends HandlerSetting = never>(
  required: readonly R[],
  optional: readonly O[] = [],
  env: NodeJS.ProcessEnv = process.env,
): HandlerSettings<R, O> {
  const settings: Partial<Record<HandlerSetting, string>> = {};
  const missing: string[] = [];
  for (const name of required) {
    const value = env[HANDLER_ENV[name]];
    if (value === undefined || value === '') missing.push(HANDLER_ENV[name]);
    else settings[name] = value;
  }
  if (missing.length > 0) throw new HandlerConfigError(missing);
  for (const name of optional) {
    const value = env[HANDLER_ENV[name]];
    if (value !== undefined && value !== '') settings[name] = value;
  }
  return settings as HandlerSettings<R, O>;
}

/** Builds a value on first use and keeps it for the container's lifetime (warm invocations reuse it). */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
