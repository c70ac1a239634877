/**
 * Writes everything the reference-parity check (compare.py, next to this file) needs to rebuild
 * Peerstyle's networks inside the authors' PyTorch code and compare them number for number: every
 * parameter and state value, a few real input images, Peerstyle's output of each stage, and the loss
 * terms, gradients and updated weights of one training step. The reference code is not used here; this
 * script only runs Peerstyle.
 *
 *   npx tsx bench/reference-parity/dump.ts --out /tmp/peerstyle-parity [--preset small] [--backend cpu]
 *       [--seed 7] [--activations] [--key=value ...]
 *
 * The architecture and losses are the reference's whatever the preset: transposed-convolution decoder, no
 * colour head, mean colour or texture loss, both TPFR stages (the overrides in `main` force them). Weights are Peerstyle's seeded initialisation with
 * every bias, batch-norm value and PReLU slope then redrawn away from its default (0, 1, 0.25), so that a
 * swapped or transposed parameter cannot hide behind a constant. For the training step, logit dropout
 * and discriminator noise are set to 0 and the history buffer to size 0 (`--attentionDropout=0
 * --discriminatorNoise=0 --poolSize=0`): the two frameworks' random streams cannot be matched, so these
 * are compared where they are deterministic (the discriminator on fixed noise below; the buffer returns
 * its input while it fills).
 *
 * Layout of the output folder (all arrays float32 .npy, images and latents NHWC as Peerstyle holds them):
 *   manifest.json            config, backend, learning rate, image files, loss values, array lists
 *   params/<name>.npy        every parameter before the step (names as in trainer/nn/params.ts)
 *   inputs/<name>.npy        realA, styleA, realB, styleB [1, S, S, 3] in [-1, 1]; discNoise [2, S, S, 6]
 *   outputs/<name>.npy       stage outputs (see STAGES in compare.py)
 *   grads/<name>.npy         gradient of each optimiser's loss w.r.t. its parameters in the step
 *   after/<name>.npy         every parameter and state value after the step
 *   activations/<network>.<index>.<call>.npy   with --activations: the input of every ReLU, leaky ReLU
 *                            and PReLU of the encoder, decoders and discriminator in the step
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../trainer/backend';
import { applyOverrides, presetConfig, type TrainConfig } from '../../trainer/config';
import { decodeImage, resizeAndCrop } from '../../trainer/data/decode-image';
import { discriminate } from '../../trainer/networks/discriminator';
import { decode } from '../../trainer/networks/decoder';
import { encode, encoderBodyLayers, encoderStemLayers } from '../../trainer/networks/encoder';
import { globalStyleLayers } from '../../trainer/networks/global-style';
import { tpfr } from '../../trainer/layers/tpfr';
import { createModel } from '../../trainer/model';
import { applyLayers, traceActivationInputs, type ActivationTracer } from '../../trainer/nn/apply';
import type { ParamStore } from '../../trainer/nn/params';
import { TsprTrainer, type ImageBatch } from '../../trainer/train-step';
import { Mulberry32 } from '../../trainer/rng';

const SAMPLE = path.join(__dirname, '..', '..', 'datasets', 'sample');
/** Real photos and paintings from the sample set: real_A, style_A (photos), real_B, style_B (paintings). */
const IMAGES = {
  realA: 'content/chelsea.jpg',
  styleA: 'content/coffee.jpg',
  realB: 'style/autumn.jpg',
  styleB: 'style/brick.jpg',
} as const;

interface Args {
  out: string;
  preset: string;
  backend: string;
  seed: number;
  /** Also write the input of every activation layer the training step runs (activations/). */
  activations: boolean;
  overrides: Record<string, string>;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: '', preset: 'small', backend: 'cpu', seed: 7, activations: false, overrides: {} };
  // One iterator for the loop and for the values it takes, so that a flag's value is skipped as an argument.
  const rest = argv.values();
  const valueOf = (name: string): string => {
    const value = rest.next().value;
    if (value === undefined) throw new Error(`${name} needs a value.`);
    return value;
  };
  for (const a of rest) {
    const [, key, value] = /^--([A-Za-z]+)=(.*)$/.exec(a) ?? [];
    if (key !== undefined && value !== undefined) args.overrides[key] = value;
    else if (a === '--out') args.out = valueOf(a);
    else if (a === '--preset') args.preset = valueOf(a);
    else if (a === '--backend') args.backend = valueOf(a);
    else if (a === '--seed') args.seed = Number(valueOf(a));
    else if (a === '--activations') args.activations = true;
    else
      throw new Error(
        `Unknown argument "${a}". Expected --out DIR, --preset, --backend, --seed, --activations or --key=value.`,
      );
  }
  if (!args.out)
    throw new Error('--out DIR is required (a folder outside the repository, e.g. /tmp/peerstyle-parity).');
  return args;
}

/** Writes a float32 array as NumPy .npy (format 1.0, C order). */
function writeNpy(file: string, shape: readonly number[], data: Float32Array): void {
  const dims = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // Magic (6) + version (2) + header length (2) + header + newline must be a multiple of 64.
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

function saveTensor(dir: string, name: string, t: tf.Tensor): void {
  writeNpy(path.join(dir, `${name}.npy`), t.shape, Float32Array.from(t.dataSync() as Float32Array));
}

function saveStore(dir: string, store: ParamStore): string[] {
  mkdirSync(dir, { recursive: true });
  const arrays = store.toNamedArrays();
  for (const [name, { shape, data }] of Object.entries(arrays)) writeNpy(path.join(dir, `${name}.npy`), shape, data);
  return Object.keys(arrays);
}

/**
 * Redraws every bias, batch-norm value and PReLU slope (and nudges nothing else): conv, linear and head
 * weights keep Peerstyle's N(0, 0.02) initialisation.
 */
function perturbDefaults(store: ParamStore, seed: number): void {
  const rng = new Mulberry32(seed);
  const gaussian = (): number => {
    const u = Math.max(rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  for (const name of store.names()) {
    const v = store.get(name);
    const values = new Float32Array(v.size);
    let draw: (() => number) | undefined;
    if (name.endsWith('.bias') || name.endsWith('.beta')) draw = () => 0.05 * gaussian();
    else if (name.endsWith('.alpha')) draw = () => 0.1 + 0.3 * rng.next();
    else if (name.endsWith('.gamma')) draw = () => 1 + 0.2 * gaussian();
    else if (name.endsWith('.runningMean')) draw = () => 0.2 * gaussian();
    else if (name.endsWith('.runningVar')) draw = () => 0.5 + rng.next();
    if (!draw) continue;
    for (let i = 0; i < values.length; i++) values[i] = draw();
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
  }
}

/** One traced activation input of the training step (see `activationRecorder`). */
interface ActivationRecord {
  /** The first parameterised layer of the list the activation belongs to, e.g. `enc.pre.conv0`, `dec.block1.conv1`. */
  network: string;
  /** The activation's index in that list. */
  index: number;
  /** How many times this activation ran before in the step (one call per batch that went through it). */
  call: number;
  file: string;
  shape: number[];
}

/**
 * Writes the input of every ReLU, leaky ReLU and PReLU that the training step runs, as
 * activations/<network>.<index>.<call>.npy, and lists them in `records`. compare.py evaluates the
 * reference's gradients at these values: where an input lies within float32 rounding of 0, the two
 * implementations can take different sides of the activation's kink.
 */
function activationRecorder(dir: string, records: ActivationRecord[]): ActivationTracer {
  mkdirSync(dir, { recursive: true });
  const calls = new Map<string, number>();
  return (layers, index, input) => {
    const named = layers.find((l) => 'name' in l);
    const network = named && 'name' in named ? named.name : 'unnamed';
    const key = `${network}.${index}`;
    const call = calls.get(key) ?? 0;
    calls.set(key, call + 1);
    const file = `${key}.${call}.npy`;
    saveTensor(dir, file.slice(0, -'.npy'.length), input);
    records.push({ network, index, call, file, shape: input.shape });
  };
}

/** Shorter side resized to `size` (bicubic), centre crop, scaled to [-1, 1]: [1, size, size, 3]. */
async function loadImage(file: string, size: number): Promise<Float32Array> {
  const image = await decodeImage(path.join(SAMPLE, file));
  const scale = size / Math.min(image.width, image.height);
  const width = Math.max(size, Math.round(image.width * scale));
  const height = Math.max(size, Math.round(image.height * scale));
  const left = Math.floor((width - size) / 2);
  const top = Math.floor((height - size) / 2);
  const pixels = await resizeAndCrop(image, { width, height }, { left, top, size });
  return Float32Array.from(pixels, (p) => p / 127.5 - 1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const overrides = {
    ...args.overrides,
    // The reference's architecture and losses, whatever the preset changes of them.
    colorHead: 'false',
    colorMean: 'false',
    colorStd: 'false',
    upsample: 'transpose',
    styleTransfer: 'true',
    contentTransfer: 'true',
    lambdaTexture: '0',
    attentionDropout: '0',
    discriminatorNoise: '0',
    poolSize: '0',
    seed: String(args.seed),
  };
  const cfg: TrainConfig = applyOverrides(presetConfig(args.preset), overrides);
  const backend = await initBackend(args.backend, { threads: 1 });
  const dirs = Object.fromEntries(
    ['params', 'inputs', 'outputs', 'grads', 'after'].map((d) => [d, path.join(args.out, d)]),
  ) as Record<'params' | 'inputs' | 'outputs' | 'grads' | 'after', string>;
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

  const store = createModel(cfg, cfg.seed);
  perturbDefaults(store, cfg.seed ^ 0x9a11);
  const paramNames = saveStore(dirs.params, store);

  const size = cfg.cropSize;
  const shape: [number, number, number, number] = [1, size, size, 3];
  const pixels: Record<keyof typeof IMAGES, Float32Array> = {
    realA: await loadImage(IMAGES.realA, size),
    styleA: await loadImage(IMAGES.styleA, size),
    realB: await loadImage(IMAGES.realB, size),
    styleB: await loadImage(IMAGES.styleB, size),
  };
  for (const [name, data] of Object.entries(pixels)) writeNpy(path.join(dirs.inputs, `${name}.npy`), shape, data);

  // ---- stage outputs at the initial weights ----
  const outputs: string[] = [];
  const out = (name: string, t: tf.Tensor): void => {
    saveTensor(dirs.outputs, name, t);
    outputs.push(name);
  };
  tf.tidy(() => {
    const realA = tf.tensor4d(pixels.realA, shape);
    const styleA = tf.tensor4d(pixels.styleA, shape);
    const styleB = tf.tensor4d(pixels.styleB, shape);
    const images = tf.concat([realA, styleB], 0); // [2, S, S, 3]
    const middle = applyLayers(store, encoderStemLayers(cfg), images); // [2, S/2, S/2, 2ngf]
    const raw = applyLayers(store, encoderBodyLayers(cfg), middle); // [2, S/4, S/4, 12ngf]
    const c = 4 * cfg.ngf;
    const zGlobal = tf.slice(raw, [0, 0, 0, c], [-1, -1, -1, c]) as tf.Tensor4D; // [2, S/4, S/4, 4ngf]
    out('enc_middle', middle);
    out('enc_raw', raw);
    out('global_vector', applyLayers(store, globalStyleLayers(cfg), zGlobal)); // [2, 1, 1, 4ngf]
    const latent = encode(store, cfg, images).latent; // [2, S/4, S/4, 12ngf]
    out('enc_latent', latent);
    const [zA, zB] = tf.split(latent, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
    const evalResult = tpfr(store, cfg, zA, zB, { training: false, returnAttention: true });
    out('tpfr_eval', evalResult.output);
    out('tpfr_eval_attention_s1', evalResult.attention!.style!);
    out('tpfr_eval_attention_s2', evalResult.attention!.content!);
    // Batch statistics (training mode) without touching the running ones; dropout is 0 in this config.
    out('tpfr_train', tpfr(store, cfg, zA, zB, { training: true, updateRunningStats: false }).output);
    out('dec_main', decode(store, cfg, 'dec', evalResult.output));
    out('dec_aux', decode(store, cfg, 'decAux', zA));
    const noise = tf.mul(tf.randomNormal([2, size, size, 6], 0, 1, 'float32', cfg.seed + 11), 0.1) as tf.Tensor4D;
    saveTensor(dirs.inputs, 'discNoise', noise);
    out('disc', discriminate(store, cfg, tf.concat([realA, styleB], 0), tf.concat([styleA, styleB], 0), noise));
  });

  // The neighbour sets of the step's TPFR call: its encoder batch and training-mode call, repeated
  // (deterministic kernels, so the same values), for compare.py to hand the reference the same sets.
  tf.tidy(() => {
    const batch4 = tf.concat(
      (['realA', 'styleA', 'realB', 'styleB'] as const).map((k) => tf.tensor4d(pixels[k], shape)),
      0,
    );
    const [zRealA, , , zStyleB] = tf.split(encode(store, cfg, batch4).latent, 4, 0) as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
    ];
    const { attention } = tpfr(store, cfg, zRealA, zStyleB, {
      training: true,
      updateRunningStats: false,
      returnAttention: true,
    });
    out('step_neighbours_s1', tf.cast(tf.greater(attention!.style!, 0), 'float32'));
    out('step_neighbours_s2', tf.cast(tf.greater(attention!.content!, 0), 'float32'));
  });

  // ---- one training step: losses, gradients of each optimiser's loss, updated weights ----
  const trainer = new TsprTrainer(cfg, store);
  const learningRate = trainer.learningRate();
  const gradNames: string[] = [];
  for (const optimiser of [trainer.aux, trainer.main, trainer.disc]) {
    const apply = optimiser.apply.bind(optimiser);
    optimiser.apply = (grads, lr) => {
      for (const name of optimiser.paramNames()) {
        if (!grads[name]) continue;
        saveTensor(dirs.grads, name, grads[name]);
        gradNames.push(name);
      }
      apply(grads, lr);
    };
  }
  const batch: ImageBatch = { batchSize: 1, size, ...pixels };
  const activations: ActivationRecord[] = [];
  const started = performance.now();
  const losses = args.activations
    ? traceActivationInputs(activationRecorder(path.join(args.out, 'activations'), activations), () =>
        trainer.step(batch),
      )
    : trainer.step(batch);
  const stepSeconds = (performance.now() - started) / 1000;
  saveStore(dirs.after, store);

  const manifest = {
    preset: args.preset,
    config: cfg,
    backend: backend.detail,
    learningRate,
    images: IMAGES,
    losses,
    stepSeconds,
    params: paramNames,
    outputs,
    grads: gradNames,
    activations,
  };
  writeFileSync(path.join(args.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`backend: ${backend.detail}`);
  console.log(`wrote ${paramNames.length} parameters, ${outputs.length} stage outputs, ${gradNames.length} gradients`);
  console.log(`training step: ${stepSeconds.toFixed(2)} s; losses ${JSON.stringify(losses)}`);
  console.log(`dump: ${path.resolve(args.out)}`);
  trainer.dispose();
  store.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
