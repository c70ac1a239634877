/**
 * Builds the executable schema from the contract file and the resolvers.
 *
 * The SDL is read when `buildSchema` is called, not at import, so importing this module does no I/O.
 */

import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvers } from './resolvers';

/** Path of the GraphQL contract. */
export const SCHEMA_PATH = join(__dirname, '..', '..', 'schema', 'schema.graphql');

/** The executable Peerstyle schema. */
export function buildSchema(path: string = SCHEMA_PATH): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: readFileSync(path, 'utf8'), resolvers });
}
