/**
 * `peerstyle keys create|list|revoke`: manages API keys in the local runtime's database, for the same
 * data folder `peerstyle serve` uses (same `--data-dir` flag and environment). Keys are stored hashed;
 * `create` prints the plaintext key once. It works while the server runs: SQLite lets both at the file.
 */

import { loadConfig } from '../../config';
import { createLocalRuntime } from '../../wiring/local';
import { UsageError } from '../args';
import { takeFlags } from './serve';

const HELP = `peerstyle keys: manage API keys of the local runtime

  keys create [--owner <name>] [--label <text>]   create a key and print it (shown once)
  keys list [--owner <name>]                      list an owner's keys, revoked ones included
  keys revoke <id> [--owner <name>]               revoke a key; requests with it are refused from then on

--owner defaults to the drop-folder owner (PEERSTYLE_DROP_OWNER, "local"). Runtime settings such as
--data-dir select the database, as for \`peerstyle serve\`.
`;

const SUBCOMMANDS = ['create', 'list', 'revoke'] as const;

const REVOKE_USAGE = 'Usage: peerstyle keys revoke <id> [--owner <name>]';

/** Runs the command; returns the exit code. */
export async function keysCommand(argv: string[]): Promise<number> {
  const { own, rest } = takeFlags(argv, { owner: 'string', label: 'string', help: 'boolean' });
  if (own.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const positionals: string[] = [];
  const settings: string[] = [];
  rest.forEach((arg, i) => (arg.startsWith('--') || isValueOf(rest, i) ? settings : positionals).push(arg));
  const [sub, ...args] = positionals;
  if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number])) {
    throw new UsageError(`Expected a subcommand, one of: ${SUBCOMMANDS.join(', ')}${sub ? `; got "${sub}"` : ''}.`);
  }
  const expected = sub === 'revoke' ? 1 : 0;
  if (args.length !== expected) {
    throw new UsageError(sub === 'revoke' ? REVOKE_USAGE : `Unexpected argument "${args[0]}".`);
  }
  if (sub !== 'create' && own.label !== undefined) throw new UsageError('--label applies to keys create only.');

  const config = loadConfig(settings);
  const runtime = createLocalRuntime(config);
  try {
    const owner = typeof own.owner === 'string' ? own.owner : config.dropOwner;
    if (sub === 'create') {
      const label = typeof own.label === 'string' ? own.label : 'cli';
      const created = await runtime.apiKeys.create(owner, label);
      process.stdout.write(
        `Created key ${created.id} for "${owner}" (label "${created.label}"). Shown once:\n${created.key}\n`,
      );
    } else if (sub === 'list') {
      const keys = await runtime.apiKeys.list(owner);
      if (keys.length === 0) process.stdout.write(`No keys for "${owner}".\n`);
      for (const key of keys) {
        const state = key.revokedAt === null ? 'active' : `revoked ${key.revokedAt}`;
        process.stdout.write(`${key.id}  ${key.prefix}…  ${key.label}  created ${key.createdAt}  ${state}\n`);
      }
    } else {
      const [id] = args;
      if (id === undefined) throw new UsageError(REVOKE_USAGE);
      await runtime.apiKeys.revoke(id, owner);
      process.stdout.write(`Revoked key ${id}.\n`);
    }
    return 0;
  } finally {
    runtime.close();
  }
}

/** Whether `rest[i]` is the value of a preceding `--flag value` runtime setting. */
function isValueOf(rest: readonly string[], i: number): boolean {
  const previous = rest[i - 1];
  return (
    previous !== undefined &&
    previous.startsWith('--') &&
    !previous.includes('=') &&
    previous !== '--introspection' &&
    previous !== '--no-introspection'
  );
}
