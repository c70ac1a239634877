/**
 * `peerstyle eval`: measures a model on every pair of a content and a style folder, next to the
 * content, style and Reinhard baselines, prints the table and writes eval.md, eval.json and
 * contact-sheet.png. A thin caller: it checks its inputs before any slow work, then hands plain data
 * to {@link runEval} and {@link writeReport}.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs, usage, UsageError, type FlagSpec } from '../cli/args';
import { createEngineStylizer } from './engine-stylizer';
import { EvalInputError, listImages } from './list-images';
import { formatMarkdown } from './report';
import { checkTargets, meansOf } from './targets';
import { runEval } from './run-eval';
import { SHEET_CELL, SHEET_CELL_RANGE } from './contact-sheet';
import { writeReport } from './write-report';
import { RENDER_SCALE_RANGE, SIZE_RANGE } from '../core/stylize-input';
import { renderScaleFlag, styleSizeFlag } from '../cli/engine-option-flags';
import { STRUCTURE_MODES, type StructureMode } from '../../trainer/export/package-format';
import { recordEval } from '../../trainer/export/package-writer';

/** The engine's smallest working side (functions/engine): --size below it is refused up front. */
const MIN_SIZE = 16;

/** The bundled model, used when --model is not given. */
const DEFAULT_MODEL_DIR = path.join(__dirname, '..', '..', 'models', 'default');

const FLAGS: Record<string, FlagSpec> = {
  content: { type: 'string', description: 'folder of content images' },
  style: { type: 'string', description: 'folder of style images' },
  out: { type: 'string', description: 'folder for eval.md, eval.json and contact-sheet.png' },
  model: { type: 'string', description: 'model package folder (default: the bundled models/default)' },
  limit: { type: 'string', description: 'evaluate at most N pairs, a seeded random subset (default: all)' },
  seed: { type: 'string', description: 'seed of the pair subset (default 1)' },
  threads: { type: 'string', description: 'threads per onnxruntime operator (default: all cores)' },
  structure: { type: 'string', description: 'keep or transfer (default: the model’s own default)' },
  size: {
    type: 'string',
    description:
      'long side in px the contents are scored and the outputs rendered at (default: each content’s own size; large images are slow to score)',
  },
  'style-size': {
    type: 'string',
    description: `long side in px the style images are resampled to before encoding, as the API's styleSize (${SIZE_RANGE[0]}-${SIZE_RANGE[1]}; default: the model's defaults.styleSize, else the output's long side up to 512)`,
  },
  'render-scale': {
    type: 'string',
    description: `how many times the output's size the model works at before shrinking, as the API's renderScale (${RENDER_SCALE_RANGE[0]}-${RENDER_SCALE_RANGE[1]}; default: the model's defaults.renderScale, else 1)`,
  },
  'sheet-cell': {
    type: 'string',
    description: `side in px of each image on contact-sheet.png (${SHEET_CELL_RANGE[0]}-${SHEET_CELL_RANGE[1]}; default ${SHEET_CELL}: larger images are shrunk to fit, which hides fine texture; give --size to see outputs at 1:1)`,
  },
  record: { type: 'boolean', description: "write the figures into the model package's manifest" },
  help: { type: 'boolean', description: 'show this help' },
};

function positiveInteger(flag: string, raw: string | undefined, allowZero = false): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(`--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${raw}".`);
  }
  return n;
}

/** Runs `peerstyle eval` with the arguments after the command name; returns the exit code. */
export async function evalCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage('eval', 'measure a model against baselines on content × style pairs', FLAGS));
    return 0;
  }
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  for (const name of ['content', 'style', 'out']) {
    if (typeof flags[name] !== 'string') throw new UsageError(`--${name} <dir> is required.`);
  }
  const limit = positiveInteger('limit', flags.limit as string | undefined);
  const seed = positiveInteger('seed', flags.seed as string | undefined, true);
  const threads = positiveInteger('threads', flags.threads as string | undefined);
  const size = positiveInteger('size', flags.size as string | undefined);
  if (size !== undefined && size < MIN_SIZE)
    throw new UsageError(`--size must be at least ${MIN_SIZE} px, got ${size}.`);
  const styleSize = styleSizeFlag('style-size', flags['style-size']);
  const renderScale = renderScaleFlag('render-scale', flags['render-scale']);
  const sheetCell = positiveInteger('sheet-cell', flags['sheet-cell'] as string | undefined);
  if (sheetCell !== undefined && (sheetCell < SHEET_CELL_RANGE[0] || sheetCell > SHEET_CELL_RANGE[1])) {
    throw new UsageError(
      `--sheet-cell must be between ${SHEET_CELL_RANGE[0]} and ${SHEET_CELL_RANGE[1]} px, got ${sheetCell}.`,
    );
  }
  const structure = flags.structure as string | undefined;
  if (structure !== undefined && !(STRUCTURE_MODES as readonly string[]).includes(structure))
    throw new UsageError(`--structure must be keep or transfer, got "${structure}".`);

  let contentFiles: string[];
  let styleFiles: string[];
  try {
    contentFiles = await listImages(flags.content as string, '--content');
    styleFiles = await listImages(flags.style as string, '--style');
  } catch (err) {
    if (err instanceof EvalInputError) throw new UsageError(err.message);
    throw err;
  }
  const modelDir = path.resolve((flags.model as string | undefined) ?? DEFAULT_MODEL_DIR);
  if (!(await fs.stat(modelDir).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`--model folder ${modelDir} does not exist.`);
  }

  const engine = createEngineStylizer({
    modelDir,
    intraOpThreads: threads,
    structure: structure as StructureMode,
    ...(styleSize !== undefined ? { styleSize } : {}),
    ...(renderScale !== undefined ? { renderScale } : {}),
  });
  try {
    const result = await runEval({
      contentFiles,
      styleFiles,
      stylizer: engine.stylize,
      limit,
      seed,
      size,
      onReconstruction: (i, total, c) => process.stderr.write(`[strength 0: ${i + 1}/${total}] ${path.basename(c)}\n`),
      onPair: (i, total, c, s) =>
        process.stderr.write(`[${i + 1}/${total}] ${path.basename(c)} × ${path.basename(s)}\n`),
    });
    const files = await writeReport(path.resolve(flags.out as string), result, modelDir, sheetCell);
    if (flags.record) {
      await recordEval(modelDir, {
        pairs: result.pairs.length,
        contents: result.contents,
        styles: result.styles,
        size: result.size ?? null,
        seed: result.seed,
        ...(structure ? { structure } : {}),
        ...(styleSize !== undefined ? { styleSize } : {}),
        ...(renderScale !== undefined ? { renderScale } : {}),
        summary: result.summary,
        targets: checkTargets(meansOf(result.summary)),
        fidelity: result.fidelity,
        identification: result.identification,
        measuredAt: new Date().toISOString(),
      });
    }
    process.stdout.write(
      `${formatMarkdown(result, modelDir)}\nWrote ${files.markdown}, ${files.json} and ${files.contactSheet}.\n`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}
