/**
 * The GraphQL layer's public surface: the schema, the hardened server, authentication, the error
 * boundary, and the subscription documents the WebSocket functions on AWS check and render. Transports
 * (the local HTTP server, Lambda handlers) import from here.
 */

export * from './context';
export * from './auth';
export * from './errors';
export * from './schema';
export * from './graphql-server';
export * from './validation';
export * from './subscription-document';
export { resolvers } from './resolvers';
