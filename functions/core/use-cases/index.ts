/**
 * The platform's use cases: plain async functions of (ports, owner, input) that the GraphQL
 * resolvers, Lambda handlers and the CLI call. Each enforces ownership itself, so no caller can forget
 * to. This file is their public surface.
 */

export * from './deps';
export * from './uploads';
export * from './create-upload';
export * from './register-style';
export * from './frozen-uploads';
export * from './enqueue-job';
export * from './submit-stylize-job';
export * from './start-training';
export * from './training-input';
export * from './publish-trained-model';
export * from './model-name';
export * from './training-budget';
export * from './jobs';
export * from './catalog';
export * from './watch-jobs';
export * from './job-result';
export * from './image-signature';
export * from './training-dataset';
export * from './image-header';
export * from './inspect-dropped-image';
