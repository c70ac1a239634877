/**
 * Generates `functions/graphql/generated/resolvers-types.ts` from `schema/schema.graphql`.
 *
 * It calls `@graphql-codegen/core` directly rather than the codegen CLI, which is not installed: the
 * CLI's terminal UI and schema loaders need Node 22 (17 EBADENGINE warnings on every install on Node 20),
 * and this script needs neither; the plugins and their output are the same. Run it with
 * `npx tsx schema/codegen.ts`; `--check` exits 1 when the committed file (or the file named by
 * `--against <path>`) differs from a fresh one. A test runs the check, so the types cannot drift from
 * the contract. (The test spawns this script because the plugins load ESM-only packages that jest's
 * CommonJS runtime on Node 20 cannot require.)
 */

import { codegen } from '@graphql-codegen/core';
import * as typescriptPlugin from '@graphql-codegen/typescript';
import * as resolversPlugin from '@graphql-codegen/typescript-resolvers';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, printSchema } from 'graphql';

/** The contract. */
export const SCHEMA_FILE = join(__dirname, 'schema.graphql');
/** The generated resolver types, committed next to the resolvers. */
export const GENERATED_FILE = join(__dirname, '..', 'functions', 'graphql', 'generated', 'resolvers-types.ts');

const HEADER = '/* Generated from schema/schema.graphql by schema/codegen.ts. Do not edit. */\n';

/** Produces the generated file's text from the schema on disk. */
export async function generateResolverTypes(): Promise<string> {
  const schema = buildSchema(readFileSync(SCHEMA_FILE, 'utf8'));
  const output = await codegen({
    filename: GENERATED_FILE,
    schema: parse(printSchema(schema)),
    documents: [],
    plugins: [{ typescript: {} }, { typescriptResolvers: {} }],
    pluginMap: { typescript: typescriptPlugin, typescriptResolvers: resolversPlugin },
    config: {
      useTypeImports: true,
      enumsAsTypes: true,
      avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      contextType: '../context#GraphQLContext',
      // Resolvers receive domain objects and map them to the GraphQL shape field by field.
      mappers: {
        Job: '../../core#Job as DomainJob',
        Style: '../../core#Style as DomainStyle',
        Model: '../../core#ModelInfo',
        JobEvent: '../../core/use-cases#JobWatchEvent',
      },
    },
  });
  return HEADER + output;
}

async function main(): Promise<void> {
  const fresh = await generateResolverTypes();
  const args = process.argv.slice(2);
  if (args.includes('--check')) {
    const againstIndex = args.indexOf('--against');
    const target = againstIndex >= 0 ? args[againstIndex + 1] : GENERATED_FILE;
    if (target === undefined) throw new Error('--against needs a file.');
    if (readFileSync(target, 'utf8') !== fresh) {
      process.stderr.write(`${target} is out of date; run npx tsx schema/codegen.ts\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(GENERATED_FILE, fresh);
}

if (require.main === module) void main();
