/**
 * `peerstyle serve [--model <dir>] [runtime settings]`: runs the whole platform on this machine (API,
 * playground, workers, drop folder) until SIGTERM or SIGINT. Runtime settings (`--port`, `--data-dir`,
 * `--workers`, …) are the configuration module's; this command only adds the model package to serve.
 */

import { serve } from '../../local/main';
import { UsageError } from '../args';

const HELP = `peerstyle serve: run the API, the playground, the workers and the drop folder

Options:
  --model <dir>              model package served as the built-in model (default: models/default)
  --help                     show this help

Runtime settings (each also an environment variable, e.g. PEERSTYLE_PORT):
  --port <n>                 default 4000; 0 picks a free port
  --host <address>           default 127.0.0.1
  --data-dir <dir>           default .peerstyle/data
  --workers <n>              jobs run at once in this process; default 1
  --drop-dir <dir|off>       default <data-dir>/dropbox
  … and the rest listed by an unknown flag's error.
`;

/**
 * Removes this command's own flags from `argv`, leaving the runtime settings for the configuration
 * module, which rejects anything it does not know.
 */
export function takeFlags(
  argv: readonly string[],
  own: Readonly<Record<string, 'string' | 'boolean'>>,
): { own: Record<string, string | true>; rest: string[] } {
  const taken: Record<string, string | true> = {};
  const rest: string[] = [];
  // One iterator for the loop and for the values it takes, so that a flag's value is skipped as an argument.
  const args = argv.values();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : '';
    const type = own[name];
    if (type === undefined) {
      rest.push(arg);
    } else if (type === 'boolean') {
      taken[name] = true;
    } else {
      const value = eq >= 0 ? arg.slice(eq + 1) : args.next().value;
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
        throw new UsageError(`--${name} needs a value.`);
      }
      taken[name] = value;
    }
  }
  return { own: taken, rest };
}

/** Runs the command; resolves with the exit code once the platform has stopped. */
export async function serveCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { own, rest } = takeFlags(argv, { model: 'string', help: 'boolean' });
  if (own.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  return serve(rest, { ...(typeof own.model === 'string' && { modelDir: own.model }), env });
}
