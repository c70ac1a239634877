/**
 * A small flag parser for the `peerstyle` subcommands: `--name value`, `--name=value`, boolean
 * `--flag`, repeatable flags, positionals, and (for `train`) free `--key=value` config overrides that
 * the command validates itself. Unknown flags are errors that list the valid ones.
 */

export interface FlagSpec {
  /** 'string' takes a value; 'boolean' takes none; 'list' takes a value and may repeat. */
  type: 'string' | 'boolean' | 'list';
  description: string;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[]>;
  positionals: string[];
  /** `--key=value` pairs not among the flags (only collected when `allowOverrides`). */
  overrides: Record<string, string>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, allowOverrides = false): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  const overrides: Record<string, string> = {};
  // One iterator for the loop and for the values it takes, so that a flag's value is skipped as an argument.
  const args = argv.values();
  for (const arg of args) {
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const spec = specs[name];
    if (!spec) {
      if (allowOverrides && inline !== undefined) {
        overrides[name] = inline;
        continue;
      }
      const valid = Object.keys(specs)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(
        `Unknown option --${name}. Valid options: ${valid}${allowOverrides ? ', or --<config key>=<value>' : ''}.`,
      );
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') {
        throw new UsageError(`--${name} takes no value (or true/false), got "${inline}".`);
      }
      flags[name] = inline !== 'false';
      continue;
    }
    const value = inline ?? args.next().value;
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value.`);
    }
    if (spec.type === 'list') {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(value);
      flags[name] = list;
    } else {
      flags[name] = value;
    }
  }
  return { flags, positionals, overrides };
}

export function usage(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const flags = Object.entries(specs).map(([k, s]) => ({
    name: `  --${k}${s.type === 'boolean' ? '' : ' <value>'}`,
    description: s.description,
  }));
  // The descriptions start in one column, two spaces past the longest flag.
  const column = Math.max(28, ...flags.map((f) => f.name.length + 2));
  const lines = flags.map((f) => f.name.padEnd(column) + f.description);
  return `peerstyle ${command}: ${summary}\n\nOptions:\n${lines.join('\n')}\n`;
}
