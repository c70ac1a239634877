/**
 * `peerstyle model inspect <dir>`: prints a model package's manifest summary and checks the package
 * (manifest, every file's size and sha256, graphs loading); exits 1 when the package is bad.
 *
 * `peerstyle model card <dir> --run <run-dir> [--eval <eval.json>] [--limit <sentence> …]`: writes
 * MODEL_CARD.md and loss-curves.png into the package (functions/modelcard).
 */
import path from 'node:path';

import { closeModelPackage, loadModelPackage } from '../../engine';
import { writeModelCard } from '../../modelcard';
import { readManifest } from '../../../trainer/export/package-format';
import { parseArgs, usage, UsageError, type FlagSpec } from '../args';
import { describeColourStep, describeDefaults, describeEval } from '../manifest-summary';

const FLAGS: Record<string, FlagSpec> = {
  help: { type: 'boolean', description: 'show this help' },
  run: { type: 'string', description: 'card: the training run folder (metrics.jsonl, model/weights.json)' },
  eval: {
    type: 'list',
    description: 'card: an eval.json from peerstyle eval, as <file> or "<images it measured>=<file>" (repeatable)',
  },
  dataset: {
    type: 'list',
    description: 'card: a dataset manifest; held-out entries are listed apart (repeatable; default datasets/sample)',
  },
  limit: { type: 'list', description: 'card: a known limit of the model (repeatable)' },
};

const ACTIONS = ['inspect', 'card'] as const;
const USAGE =
  'model inspect <dir> | model card <dir> --run <run-dir> [--eval [<label>=]<eval.json> …] [--dataset <manifest> …] [--limit <text>]';

export async function modelCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage(USAGE, 'summarise and check a model package, or write its model card', FLAGS));
    return 0;
  }
  const [action, dir, ...extra] = positionals;
  if (!(ACTIONS as readonly string[]).includes(action ?? '')) {
    throw new UsageError(`Unknown action "${action ?? ''}". Expected one of: ${ACTIONS.join(', ')}.`);
  }
  if (action === 'card') return cardCommand(dir, extra, flags);
  if (!dir || extra.length) throw new UsageError('Usage: peerstyle model inspect <dir>');
  const root = path.resolve(dir);
  try {
    const m = await readManifest(root);
    const lines = [
      `model     ${m.name} ${m.version}`,
      `preset    ${m.preset} (ngf ${m.config.ngf}, knn ${m.config.knn})`,
      `input     RGB in [${m.input.range.join(', ')}], ${m.input.layout}, sides a multiple of ${m.input.sizeMultiple}`,
      `training  ${m.training ? `${m.training.iterations} iterations on ${m.training.dataset}` : 'unknown'}` +
        (m.training?.averagedIterations ? ` (mean of checkpoints ${m.training.averagedIterations.join(', ')})` : ''),
      `colour    ${describeColourStep(m.config)}`,
      `defaults  ${describeDefaults(m.defaults)}`,
      `eval      ${describeEval(m.eval)}`,
      `opset     ${m.opset}`,
      ...Object.entries(m.files).map(
        ([f, info]) =>
          `file      ${f.padEnd(14)} ${String(info.bytes).padStart(10)} bytes  sha256 ${info.sha256.slice(0, 16)}…`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const pkg = await loadModelPackage(root, { intraOpThreads: 1 });
    await closeModelPackage(pkg);
  } catch (err) {
    process.stdout.write(`check     FAILED: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write('check     ok\n');
  return 0;
}

async function cardCommand(
  dir: string | undefined,
  extra: string[],
  flags: Record<string, string | boolean | string[]>,
): Promise<number> {
  if (!dir || extra.length || typeof flags.run !== 'string') {
    throw new UsageError('Usage: peerstyle model card <dir> --run <run-dir> [--eval <eval.json>] [--limit <text>]');
  }
  const result = await writeModelCard({
    packageDir: path.resolve(dir),
    runDir: path.resolve(flags.run),
    evaluations: (Array.isArray(flags.eval) ? flags.eval : []).map(labelledFile),
    datasetManifests: (Array.isArray(flags.dataset) ? flags.dataset : []).map((f) => path.resolve(f)),
    knownLimits: Array.isArray(flags.limit) ? flags.limit : [],
  });
  process.stdout.write(`wrote ${result.cardPath}\nwrote ${result.plotPath}\n`);
  return 0;
}

/** "held-out split=out/eval.json" → a label and a path; a bare path has no label. */
function labelledFile(value: string): { label: string; file: string } {
  const eq = value.indexOf('=');
  // A path may itself hold "=": only text before the first "=" without a slash is a label.
  if (eq > 0 && !value.slice(0, eq).includes('/'))
    return { label: value.slice(0, eq), file: path.resolve(value.slice(eq + 1)) };
  return { label: '', file: path.resolve(value) };
}
