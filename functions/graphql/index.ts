/**
 * The GraphQL layer's public surface: the schema, the hardened server, authentication and the error
 * boundary. Transports (the local HTTP server, Lambda handlers) import from here.
 */

export * from './context';
export * from './auth';
export * from './errors';
export * from './schema';
export * from './graphql-server';
export * from './validation';
export { resolvers } from './resolvers';
