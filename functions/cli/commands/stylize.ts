/**
 * `peerstyle stylize`: stylises one content image with one or more weighted styles, or, in its batch
 * form (`--content-dir --style-dir --out-dir`), every content × style pair with a progress bar on
 * stderr. A thin caller of the engine: flags become an engine request, engine errors become one line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import {
  createEngine,
  EngineError,
  EXECUTION_PROVIDERS,
  OUTPUT_FORMATS,
  type EngineOptions,
  type ExecutionProvider,
  stylizeFile,
  type Engine,
  type OutputFormat,
  type StylizeRequest,
  type StructureMode,
} from '../../engine';
import { parseArgs, usage, UsageError, type FlagSpec } from '../args';

/** The bundled model package, used when --model is not given. */
export const DEFAULT_MODEL_DIR = path.join(__dirname, '..', '..', '..', 'models', 'default');

const FLAGS: Record<string, FlagSpec> = {
  content: { type: 'string', description: 'content image (JPEG, PNG or WebP)' },
  style: { type: 'list', description: 'style image; repeat for several styles' },
  weight: { type: 'list', description: 'weight of each --style, in order (default 1 each)' },
  out: { type: 'string', description: 'output image file' },
  'content-dir': { type: 'string', description: 'batch: folder of content images' },
  'style-dir': { type: 'string', description: 'batch: folder of style images' },
  'out-dir': { type: 'string', description: 'batch: folder for <content>__<style>.<format>' },
  strength: { type: 'string', description: '0..1, 0 reconstructs the content (default 1)' },
  'preserve-color': { type: 'boolean', description: 'keep the content’s colours' },
  structure: {
    type: 'string',
    description:
      'keep (the content keeps its own structure codes) or transfer (both TPFR stages); default: the model’s',
  },
  size: { type: 'string', description: 'long side of the output in px (default: the content’s)' },
  'style-size': { type: 'string', description: 'long side the styles are resampled to' },
  'render-scale': {
    type: 'string',
    description: 'work at this many times the output size, then shrink (1-4; default: the model’s, else 1)',
  },
  model: { type: 'string', description: 'model package folder (default models/default)' },
  format: {
    type: 'string',
    description: `output format: ${OUTPUT_FORMATS.join(', ')} (default: from --out, else png)`,
  },
  quality: { type: 'string', description: '1..100 for jpeg and webp' },
  preview: {
    type: 'string',
    description: 'also write a small JPEG rendering (long side 512 px) to this file as soon as it exists',
  },
  threads: { type: 'string', description: 'onnxruntime threads per operator (default: all cores)' },
  device: {
    type: 'string',
    description: `${EXECUTION_PROVIDERS.join(' or ')}; cuda falls back to cpu with a notice (default cpu)`,
  },
  help: { type: 'boolean', description: 'show this help' },
};

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
const FORMAT_OF_EXTENSION: Record<string, OutputFormat> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
};

export async function stylizeCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(usage('stylize', 'stylise images with a model package', FLAGS));
    return 0;
  }
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  const batch =
    flags['content-dir'] !== undefined || flags['style-dir'] !== undefined || flags['out-dir'] !== undefined;
  const common = {
    strength: number(flags.strength, '--strength'),
    preserveColor: Boolean(flags['preserve-color']),
    structure: flags.structure as StructureMode | undefined,
    size: integer(flags.size, '--size'),
    styleSize: integer(flags['style-size'], '--style-size'),
    renderScale: number(flags['render-scale'], '--render-scale'),
    quality: integer(flags.quality, '--quality'),
  };
  const device = flags.device as string | undefined;
  if (device !== undefined && !(EXECUTION_PROVIDERS as readonly string[]).includes(device)) {
    throw new UsageError(`Unknown --device "${device}". Expected one of: ${EXECUTION_PROVIDERS.join(', ')}.`);
  }
  const engineOptions: EngineOptions = {
    modelDir: path.resolve((flags.model as string | undefined) ?? DEFAULT_MODEL_DIR),
    intraOpThreads: integer(flags.threads, '--threads'),
    executionProvider: device as ExecutionProvider | undefined,
  };
  const format = flags.format as string | undefined;
  if (format !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`Unknown --format "${format}". Expected one of: ${OUTPUT_FORMATS.join(', ')}.`);
  }
  try {
    if (batch)
      return await runBatch(flags, { ...common, format: (format as OutputFormat | undefined) ?? 'png' }, engineOptions);
    return await runSingle(flags, common, format as OutputFormat | undefined, engineOptions);
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    process.stderr.write(`peerstyle stylize: ${err.message} (${err.code})\n`);
    return 1;
  }
}

type Common = Omit<StylizeRequest, 'content' | 'styles'>;

async function runSingle(
  flags: Record<string, unknown>,
  common: Common,
  format: OutputFormat | undefined,
  engineOptions: EngineOptions,
): Promise<number> {
  if (typeof flags.content !== 'string')
    throw new UsageError('--content <file> is required (or --content-dir for a batch).');
  if (typeof flags.out !== 'string') throw new UsageError('--out <file> is required.');
  const styles = (flags.style as string[] | undefined) ?? [];
  if (styles.length === 0) throw new UsageError('At least one --style <file> is required.');
  const weights = ((flags.weight as string[] | undefined) ?? []).map((w) => number(w, '--weight') as number);
  if (weights.length > 0 && weights.length !== styles.length) {
    throw new UsageError(`Give one --weight per --style: ${styles.length} styles, ${weights.length} weights.`);
  }
  const out = path.resolve(flags.out);
  const outFormat = outputFormat(out, format);
  const previewFile = typeof flags.preview === 'string' ? path.resolve(flags.preview) : undefined;
  const engine = await openEngine(engineOptions);
  let previewWritten: Promise<void> = Promise.resolve();
  const result = await stylizeFile(
    engine,
    {
      ...common,
      content: path.resolve(flags.content),
      styles: styles.map((s, i) => ({ image: path.resolve(s), weight: weights[i] ?? 1 })),
      format: outFormat,
      ...(previewFile && {
        preview: true,
        onProgress: ({ preview }) => {
          if (!preview) return;
          previewWritten = writeAtomically(previewFile, preview.image).then(() => {
            process.stdout.write(`Wrote preview ${previewFile} (${preview.width}×${preview.height} jpeg).\n`);
          });
        },
      }),
    },
    out,
  );
  await previewWritten;
  process.stdout.write(`Wrote ${out} (${result.width}×${result.height} ${result.format}).\n`);
  return 0;
}

/** Writes through a temporary file in the same folder, so a viewer never sees half a file. */
async function writeAtomically(file: string, bytes: Buffer): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, file);
}

async function runBatch(
  flags: Record<string, unknown>,
  common: Common & { format: OutputFormat },
  engineOptions: EngineOptions,
): Promise<number> {
  if (flags.preview !== undefined) throw new UsageError('--preview is for a single image; drop it in the batch form.');
  for (const name of ['content-dir', 'style-dir', 'out-dir']) {
    if (typeof flags[name] !== 'string')
      throw new UsageError(`The batch form needs --content-dir, --style-dir and --out-dir; --${name} is missing.`);
  }
  const contents = await listImages(flags['content-dir'] as string);
  const styles = await listImages(flags['style-dir'] as string);
  const outDir = path.resolve(flags['out-dir'] as string);
  await fs.mkdir(outDir, { recursive: true });
  const engine: Engine = await openEngine(engineOptions);
  const total = contents.length * styles.length;
  let done = 0;
  let failed = 0;
  for (const content of contents) {
    for (const style of styles) {
      const label = `${path.parse(content).name} × ${path.parse(style).name}`;
      progressBar(done, total, label);
      const out = path.join(
        outDir,
        `${path.parse(content).name}__${path.parse(style).name}.${common.format === 'jpeg' ? 'jpg' : common.format}`,
      );
      try {
        await stylizeFile(engine, { ...common, content, styles: [{ image: style }] }, out);
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        failed++;
        process.stderr.write(`\n${label}: ${err.message} (${err.code})\n`);
      }
      done++;
    }
  }
  progressBar(done, total, 'done');
  process.stderr.write('\n');
  process.stdout.write(`Wrote ${total - failed} of ${total} images to ${outDir}.\n`);
  return failed === 0 ? 0 : 1;
}

/**
 * The format of `--out`: its extension's, which an explicit `--format` must agree with; `--format` (else
 * png) for a name without an extension. An extension of a format the engine does not write (`.gif`) is
 * refused before anything runs, rather than writing PNG bytes under that name.
 */
export function outputFormat(out: string, format: OutputFormat | undefined): OutputFormat {
  const extension = path.extname(out).toLowerCase();
  if (extension === '') return format ?? 'png';
  const implied = FORMAT_OF_EXTENSION[extension];
  const known = Object.keys(FORMAT_OF_EXTENSION).join(', ');
  if (implied === undefined) {
    throw new EngineError(
      'BAD_OPTION',
      `--out ${path.basename(out)}: peerstyle writes no ${extension} files. Use one of: ${known}.`,
    );
  }
  if (format !== undefined && format !== implied) {
    throw new EngineError(
      'BAD_OPTION',
      `--out ${path.basename(out)} is a ${implied} name but --format is ${format}. Drop --format, or name the file ${path.basename(out, path.extname(out))}${format === 'jpeg' ? '.jpg' : `.${format}`}.`,
    );
  }
  return implied;
}

/** Opens the engine and says on stderr when the requested device was not available. */
async function openEngine(options: EngineOptions): Promise<Engine> {
  const engine = await createEngine(options);
  if (engine.notice) process.stderr.write(`peerstyle stylize: ${engine.notice}\n`);
  return engine;
}

async function listImages(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    throw new UsageError(`Cannot read the folder ${root}.`);
  }
  const files = names.filter((n) => IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase())).sort();
  if (files.length === 0) throw new UsageError(`${root} holds no .jpg, .jpeg, .png or .webp images.`);
  return files.map((n) => path.join(root, n));
}

function progressBar(done: number, total: number, label: string): void {
  const width = 24;
  const filled = Math.round((width * done) / total);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`.padEnd(78));
}

function number(raw: unknown, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${flag} must be a number, got "${String(raw)}".`);
  return n;
}

function integer(raw: unknown, flag: string): number | undefined {
  const n = number(raw, flag);
  if (n !== undefined && !Number.isInteger(n))
    throw new UsageError(`${flag} must be a whole number, got "${String(raw)}".`);
  return n;
}
