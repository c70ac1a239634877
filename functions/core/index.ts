/**
 * The public surface of the domain core: the job model and its state machine, the error vocabulary,
 * blob-key rules and prefixes, the stylize job's input and the port interfaces. Adapters, use cases,
 * resolvers and handlers import from here and nowhere deeper, so anything not exported below may
 * change without notice.
 */

export * from './errors';
export * from './json';
export * from './job';
export * from './blob-key';
export * from './blob-prefixes';
export * from './image-formats';
export * from './stylize-input';
export * from './ports/clock';
export * from './ports/page';
export * from './ports/blob-store';
export * from './ports/job-store';
export * from './ports/job-queue';
export * from './ports/job-starter';
export * from './ports/job-events';
export * from './ports/api-key-store';
export * from './ports/request-limiter';
export * from './ports/style-store';
export * from './ports/training-rules';
export * from './ports/model-registry';
