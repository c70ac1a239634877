/**
 * One TSPR training iteration: a shared forward pass, then the auxiliary, main and discriminator
 * updates with their three Adam optimisers (models/gan_aux_model.py: optimize_parameters).
 *
 * The official code runs the auxiliary step first and updates the encoder in place before the main
 * step's backward pass, which goes through E(fake_B); PyTorch ≥ 1.5 rejects this ("modified by an
 * inplace operation"). Here both generator losses are differentiated in one backward pass against the
 * same iteration's weights, and only then are the updates applied:
 * - the auxiliary loss reaches only auxiliary parameters (encoder, global net, auxiliary decoder): its
 *   content cycle re-encodes generated images whose gradient is stopped, as the reference detaches them;
 * - the main loss reaches only main parameters (TPFR, main merge + decoder): the latents it decodes are
 *   detached, and where it re-encodes fake_B (transfer cycle) the encoder is read frozen;
 * so the gradient of (auxiliary + main) restricted to each group equals that group's own gradient, and
 * the main step sees exactly the encoder weights that produced its inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config';
import { OPTIMISER_GROUPS, type ParamStore } from './nn/params';
import { stopGradient } from './nn/stop-gradient';
import { encode } from './networks/encoder';
import { decode, decoderColour } from './networks/decoder';
import { discriminate } from './networks/discriminator';
import { tpfr } from './layers/tpfr';
import { splitLatent } from './model';
import {
  contentCycleLoss,
  latentCycleLoss,
  metricLoss,
  ralsganDiscriminatorLoss,
  ralsganGeneratorLoss,
  reconstructionLoss,
  transferCycleLoss,
} from './losses';
import { Adam, learningRateAt } from './optim/adam';
import { must } from '../functions/core/must';
import { ImagePool, type Triplet } from './image-pool';
import { Mulberry32 } from './rng';
import { TEXTURE_LOSS_SEED, TextureLoss } from './texture-loss';
import { GridLoss } from './grid-loss';

/** One batch of training images, NHWC in [-1, 1] (trainer/data's TrainingBatch has this shape). */
export interface ImageBatch {
  batchSize: number;
  size: number;
  realA: Float32Array;
  styleA: Float32Array;
  realB: Float32Array;
  styleB: Float32Array;
}

/** The unweighted loss terms of one iteration, plus the weighted totals that were minimised. */
export interface StepLosses {
  loss_z_cont: number;
  loss_metric: number;
  loss_cycle_aux: number;
  loss_idt_aux: number;
  loss_adv_g: number;
  loss_idt: number;
  loss_transf: number;
  /** The texture loss on fake_B (trainer/texture-loss.ts); 0 when lambdaTexture is 0. */
  loss_texture: number;
  /**
   * The texture loss of the transfer re-decoded from the exemplar's live latent, which trains the encoder's
   * style codes; 0 when lambdaTextureCodes is 0.
   */
  loss_texture_codes: number;
  /** The grid loss on fake_B, rec_A and rec_style_B (trainer/grid-loss.ts); 0 when lambdaGrid is 0. */
  loss_grid: number;
  loss_d: number;
  loss_aux: number;
  loss_main: number;
}

/** The generator's loss terms, read back after its update. */
const GENERATOR_LOSSES = [
  'loss_z_cont',
  'loss_metric',
  'loss_cycle_aux',
  'loss_idt_aux',
  'loss_adv_g',
  'loss_idt',
  'loss_transf',
  'loss_texture',
  'loss_texture_codes',
  'loss_grid',
  'loss_aux',
  'loss_main',
] as const;

/** What the generator's pass keeps for after its update: its losses and the images the discriminator sees. */
type KeptName = (typeof GENERATOR_LOSSES)[number] | 'fakeB' | 'recA';

export interface TrainerState {
  iteration: number;
  rng: number;
}

/** Strips the store's instance suffix from a tfjs variable name (`enc.pre.0.weight@3` → `enc.pre.0.weight`). */
function paramName(variableName: string): string {
  const at = variableName.lastIndexOf('@');
  return at < 0 ? variableName : variableName.slice(0, at);
}

/** A tuple of `N` elements of `T`. */
type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/** Splits a batch into `parts` equal batches along the first axis, typed as a tuple of that length. */
function splitBatch<N extends 2 | 3 | 4>(t: tf.Tensor4D, parts: N): Tuple<tf.Tensor4D, N> {
  const pieces = tf.split(t, parts, 0) as tf.Tensor4D[];
  if (pieces.length !== parts) throw new Error(`Internal error: split into ${pieces.length} parts, not ${parts}.`);
  return pieces as Tuple<tf.Tensor4D, N>;
}

/** The single value of a scalar tensor. */
function scalarValue(t: tf.Tensor): number {
  return must(t.dataSync()[0], 'the value of a scalar loss');
}

export class TsprTrainer {
  readonly aux: Adam;
  readonly main: Adam;
  readonly disc: Adam;
  readonly pool: ImagePool;
  iteration = 0;
  private readonly rng: Mulberry32;
  /** The fixed random net of the texture loss, built only when the loss is weighted. */
  private readonly texture: TextureLoss | null;
  /** The grid loss's DFT bases, built only when the loss is weighted. */
  private readonly grid: GridLoss | null;

  constructor(
    readonly cfg: TrainConfig,
    readonly store: ParamStore,
  ) {
    const settings = { beta1: cfg.beta1, beta2: cfg.beta2 };
    this.aux = new Adam(store, OPTIMISER_GROUPS.aux, settings);
    this.main = new Adam(store, OPTIMISER_GROUPS.main, settings);
    this.disc = new Adam(store, OPTIMISER_GROUPS.discriminator, settings);
    this.pool = new ImagePool(cfg.poolSize, cfg.seed ^ 0x5eed);
    this.rng = new Mulberry32(cfg.seed ^ 0x7a11);
    this.texture =
      cfg.lambdaTexture > 0 || cfg.lambdaTextureCodes > 0
        ? new TextureLoss(TEXTURE_LOSS_SEED, cfg.textureScales)
        : null;
    this.grid = cfg.lambdaGrid > 0 ? new GridLoss() : null;
  }

  learningRate(): number {
    return learningRateAt(this.iteration, this.cfg.learningRate, this.cfg.iterations, this.cfg.decayIterations);
  }

  state(): TrainerState {
    return { iteration: this.iteration, rng: this.rng.state() };
  }

  load(state: TrainerState): void {
    this.iteration = state.iteration;
    this.rng.setState(state.rng);
  }

  /** Runs one iteration on a batch and returns its losses. */
  step(batch: ImageBatch): StepLosses {
    const lr = this.learningRate();
    const { cfg, store } = this;
    const shape: [number, number, number, number] = [batch.batchSize, batch.size, batch.size, 3];
    const tensors = {
      realA: tf.tensor4d(batch.realA, shape),
      styleA: tf.tensor4d(batch.styleA, shape),
      realB: tf.tensor4d(batch.realB, shape),
      styleB: tf.tensor4d(batch.styleB, shape),
    };
    const dropoutSeed = this.rng.nextSeed();
    const noiseSeedG = this.rng.nextSeed();
    const noiseSeedD = this.rng.nextSeed();
    const b = batch.batchSize;

    // ---- generator: auxiliary + main losses, one forward, one backward ----
    const kept: Partial<Record<KeptName, tf.Tensor>> = {};
    const keptTensor = (name: KeptName): tf.Tensor => must(kept[name], `the kept tensor ${name}`);
    const genVars = [...store.trainable(OPTIMISER_GROUPS.aux), ...store.trainable(OPTIMISER_GROUPS.main)];
    const { value: genTotal, grads: genGrads } = tf.variableGrads(() => {
      const { realA, styleA, realB, styleB } = tensors;
      // Encode the four inputs in one batch: instance norm and the global net work per sample.
      const enc = encode(store, cfg, tf.concat([realA, styleA, realB, styleB], 0));
      const [zRealA, zStyleA, zRealB, zStyleB] = splitBatch(enc.latent, 4);
      const [midRealA, , , midStyleB] = splitBatch(enc.middle, 4);
      const codeRealA = splitLatent(cfg, zRealA);
      const codeStyleB = splitLatent(cfg, zStyleB);

      // Main path: decoders of detached latents.
      const zA = stopGradient(zRealA);
      const zSB = stopGradient(zStyleB);
      const transferred = tpfr(store, cfg, zA, zSB, { training: true, dropoutSeed }).output;
      // With the colour head, each output takes the colours of the image it should look like: the
      // exemplar for fake_B, the reconstructed image itself for the reconstructions.
      const colourA = decoderColour(cfg, realA);
      const colourSB = decoderColour(cfg, styleB);
      const decoded = decode(
        store,
        cfg,
        'dec',
        tf.concat([transferred, zA, zSB], 0),
        tf.concat([colourSB, colourA, colourSB], 0),
        { updateConditionStatistics: true },
      );
      const [fakeB, recA, recStyleB] = splitBatch(decoded, 3);
      // Auxiliary path: the auxiliary decoder on live latents.
      const decodedAux = decode(
        store,
        cfg,
        'decAux',
        tf.concat([zRealA, zStyleB], 0),
        tf.concat([colourA, colourSB], 0),
        { updateConditionStatistics: true },
      );
      const [recAAux, recStyleBAux] = splitBatch(decodedAux, 2);

      // Re-encode the outputs: [fake_B, rec_A] detached (content cycle trains the encoder only), and the
      // auxiliary reconstructions live (latent cycle trains encoder and auxiliary decoder).
      const reenc = encode(store, cfg, tf.concat([stopGradient(fakeB), stopGradient(recA), recAAux, recStyleBAux], 0));
      const [eFake, eRec, eRecAAux, eRecSBAux] = splitBatch(reenc.latent, 4);
      const [, , midRecAAux, midRecSBAux] = splitBatch(reenc.middle, 4);
      const cFake = splitLatent(cfg, eFake);
      const cRec = splitLatent(cfg, eRec);
      const cRecAAux = splitLatent(cfg, eRecAAux);
      const cRecSBAux = splitLatent(cfg, eRecSBAux);
      // The reference detaches the real images' codes in the metric loss (only style_A's and style_B's
      // encodings learn from it) and every target of the latent cycle (only the re-encodings learn).
      const styleCodes = {
        realA: stopGradient(codeRealA.style),
        styleA: splitLatent(cfg, zStyleA).style,
        realB: stopGradient(splitLatent(cfg, zRealB).style),
        styleB: codeStyleB.style,
      };

      const lZCont = contentCycleLoss(cFake.content, cRec.content, stopGradient(codeRealA.content));
      const lMetric = metricLoss(styleCodes, cfg.metricMargin);
      const lCycleAux = latentCycleLoss([
        [cRecAAux.content, stopGradient(codeRealA.content)],
        [cRecAAux.style, stopGradient(codeRealA.style)],
        [cRecSBAux.style, stopGradient(codeStyleB.style)],
        [midRecAAux, stopGradient(midRealA)],
        [midRecSBAux, stopGradient(midStyleB)],
      ]);
      const lIdtAux = reconstructionLoss([
        [recAAux, realA],
        [recStyleBAux, styleB],
      ]);
      // The same transfer (same dropout) from the exemplar's live latent, rendered by the main decoder with
      // it and TPFR frozen: the texture loss's only way into the style codes. Without it the codes learn
      // from the metric loss and the auxiliary cycle alone, which say nothing about texture, and the
      // decoder has no exemplar texture in its input to render.
      const texture = this.texture;
      const lTextureCodes =
        texture && cfg.lambdaTextureCodes > 0
          ? store.withFrozen(['dec.', 'tpfr.'], () => {
              const live = tpfr(store, cfg, zA, zStyleB, {
                training: true,
                dropoutSeed,
                updateRunningStats: false,
              }).output;
              const rendered = decode(store, cfg, 'dec', live, colourSB);
              return texture.loss(rendered, styleB);
            })
          : tf.scalar(0);
      const lossAux = tf.addN([
        tf.mul(lZCont, cfg.lambdaContent),
        tf.mul(lMetric, cfg.lambdaStyle),
        tf.mul(lCycleAux, cfg.lambdaCycleAux),
        tf.mul(lIdtAux, cfg.lambdaIdtAux),
        tf.mul(lTextureCodes, cfg.lambdaTextureCodes),
      ]) as tf.Scalar;

      // Main losses: adversarial (D read as is; its weights are not in this step's variables), main
      // reconstruction, and the transfer latent cycle through a frozen encoder.
      const dIn = tf.concat([realA, recA, realB, fakeB], 0);
      const dEx = tf.concat([styleA, styleA, styleB, styleB], 0);
      const noise = tf.randomNormal(
        [4 * b, batch.size, batch.size, 6],
        0,
        cfg.discriminatorNoise,
        'float32',
        noiseSeedG,
      ) as tf.Tensor4D;
      const [pRealA, pRecA, pRealB, pFakeB] = splitBatch(discriminate(store, cfg, dIn, dEx, noise), 4);
      const lAdv = tf.mul(
        tf.add(ralsganGeneratorLoss(pRealA, pRecA), ralsganGeneratorLoss(pRealB, pFakeB)),
        0.5,
      ) as tf.Scalar;
      const lIdt = reconstructionLoss([
        [recA, realA],
        [recStyleB, styleB],
      ]);
      const eFakeFrozen = store.withFrozen(['enc.'], () => splitLatent(cfg, encode(store, cfg, fakeB).latent));
      const lTransf = transferCycleLoss(
        eFakeFrozen.content,
        stopGradient(codeRealA.content),
        eFakeFrozen.style,
        stopGradient(codeStyleB.style),
      );
      const lTexture = texture && cfg.lambdaTexture > 0 ? texture.loss(fakeB, styleB) : tf.scalar(0);
      // fake_B should carry no more grid than the photo whose structure it keeps; each reconstruction
      // no more than its original.
      const lGrid = this.grid ? this.grid.loss(decoded, tf.concat([realA, realA, styleB], 0)) : tf.scalar(0);
      const lossMain = tf.addN([
        tf.mul(lAdv, cfg.lambdaAdversarial),
        tf.mul(lIdt, cfg.lambdaIdt),
        tf.mul(lTransf, cfg.lambdaTransfer),
        tf.mul(lTexture, cfg.lambdaTexture),
        tf.mul(lGrid, cfg.lambdaGrid),
      ]) as tf.Scalar;

      Object.assign(kept, {
        loss_z_cont: tf.keep(lZCont),
        loss_metric: tf.keep(lMetric),
        loss_cycle_aux: tf.keep(lCycleAux),
        loss_idt_aux: tf.keep(lIdtAux),
        loss_adv_g: tf.keep(lAdv),
        loss_idt: tf.keep(lIdt),
        loss_transf: tf.keep(lTransf),
        loss_texture: tf.keep(lTexture),
        loss_texture_codes: tf.keep(lTextureCodes),
        loss_grid: tf.keep(lGrid),
        loss_aux: tf.keep(lossAux),
        loss_main: tf.keep(lossMain),
        fakeB: tf.keep(fakeB),
        recA: tf.keep(recA),
      });
      return tf.add(lossAux, lossMain) as tf.Scalar;
    }, genVars);

    const byName: Record<string, tf.Tensor> = {};
    for (const [varName, g] of Object.entries(genGrads)) byName[paramName(varName)] = g;
    // Both gradients were taken at this iteration's weights; apply them only now.
    this.aux.apply(byName, lr);
    this.main.apply(byName, lr);
    genTotal.dispose();
    tf.dispose(Object.values(genGrads));

    // ---- discriminator, on (real, fake, style) triplets from the history buffer ----
    const toArray = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
    const tripletA: Triplet = { real: batch.realA, fake: toArray(keptTensor('recA')), style: batch.styleA };
    const tripletB: Triplet = { real: batch.realB, fake: toArray(keptTensor('fakeB')), style: batch.styleB };
    const pooledA = this.pool.query(tripletA);
    const pooledB = this.pool.query(tripletB);
    const discVars = store.trainable(OPTIMISER_GROUPS.discriminator);
    const { value: dLoss, grads: dGrads } = tf.variableGrads(() => {
      const t = (a: Float32Array) => tf.tensor4d(a, shape);
      const images = tf.concat([t(pooledA.real), t(pooledA.fake), t(pooledB.real), t(pooledB.fake)], 0);
      const exemplars = tf.concat([t(pooledA.style), t(pooledA.style), t(pooledB.style), t(pooledB.style)], 0);
      const noise = tf.randomNormal(
        [4 * b, batch.size, batch.size, 6],
        0,
        cfg.discriminatorNoise,
        'float32',
        noiseSeedD,
      ) as tf.Tensor4D;
      const [pRealA, pFakeA, pRealB, pFakeB] = splitBatch(discriminate(store, cfg, images, exemplars, noise), 4);
      return tf.mul(
        tf.add(ralsganDiscriminatorLoss(pRealA, pFakeA), ralsganDiscriminatorLoss(pRealB, pFakeB)),
        0.5,
      ) as tf.Scalar;
    }, discVars);
    const dByName: Record<string, tf.Tensor> = {};
    for (const [varName, g] of Object.entries(dGrads)) dByName[paramName(varName)] = g;
    this.disc.apply(dByName, lr);

    const losses = {} as StepLosses;
    for (const key of GENERATOR_LOSSES) losses[key] = scalarValue(keptTensor(key));
    losses.loss_d = scalarValue(dLoss);
    dLoss.dispose();
    tf.dispose(Object.values(dGrads));
    tf.dispose(Object.values(kept));
    tf.dispose(Object.values(tensors));
    this.iteration += 1;
    return losses;
  }

  dispose(): void {
    this.aux.dispose();
    this.main.dispose();
    this.disc.dispose();
    this.texture?.dispose();
    this.grid?.dispose();
  }
}
