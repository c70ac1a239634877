/**
 * The public surface of the embedded local adapters: the implementations of the core ports that a
 * single machine runs without any cloud account. The composition root imports from here.
 */

export * from './sqlite-database';
export * from './sqlite-job-store';
export * from './sqlite-job-queue';
export * from './sqlite-api-key-store';
export * from './sqlite-style-store';
export * from './sqlite-model-registry';
export * from './in-process-job-events';
export * from './fs-blob-store';
export * from './signed-urls';
