/**
 * The `peerstyle` command: dispatches to a subcommand and turns errors into one clear line on stderr
 * and a non-zero exit code (2 for usage errors, 1 for everything else).
 */
import { UsageError } from './args';
import { exportCommand } from './commands/export';
import { modelCommand } from './commands/model';
import { stylizeCommand } from './commands/stylize';
import { trainCommand } from './commands/train';
import { workerCommand } from './commands/worker';
import { keysCommand } from './commands/keys';
import { serveCommand } from './commands/serve';
import { evalCommand } from '../eval/eval-command';
import { loadCliConfig } from '../config';

/** A subcommand: its arguments and the environment it runs in (the process's, handed down by bin/). */
type Command = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  train: { run: trainCommand, summary: 'train the TSPR model on an image folder' },
  export: { run: exportCommand, summary: 'export trained weights as an ONNX model package' },
  stylize: { run: stylizeCommand, summary: 'stylise images with a model package' },
  model: { run: modelCommand, summary: 'inspect and check a model package (model inspect <dir>)' },
  eval: { run: evalCommand, summary: 'measure a model against baselines on content × style pairs' },
  worker: { run: workerCommand, summary: 'run one stylize job from the jobs table (the AWS Batch container entry)' },
  serve: { run: serveCommand, summary: 'run the API, playground, workers and drop folder on this machine' },
  keys: { run: keysCommand, summary: 'create, list and revoke API keys (keys create|list|revoke)' },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`);
  return `Usage: peerstyle <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun "peerstyle <command> --help" for a command's options.\n`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command "${name}". Expected one of: ${Object.keys(COMMANDS).join(', ')}.\n`);
    return 2;
  }
  try {
    return await command.run(rest, env);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`peerstyle ${name}: ${e.message}\n`);
    if (loadCliConfig(env).debug) process.stderr.write(`${e.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
