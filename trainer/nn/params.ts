/**
 * Named parameters of the TSPR networks. Every weight is a tf.Variable registered under a dotted name
 * (`enc.pre.0.weight`, `tpfr.s1.mlp.fc1.bias`, …); the prefix decides which optimiser owns it:
 *
 *   enc.*     encoder, its "middle" stem and the global-style net   → auxiliary optimiser
 *   decAux.*  auxiliary merge + decoder                             → auxiliary optimiser
 *   tpfr.*    TPFR attention MLPs                                   → main optimiser
 *   dec.*     main merge + decoder                                  → main optimiser
 *   disc.*    discriminator                                         → discriminator optimiser
 *
 * Initial values are seeded per name (not per creation order), so a network built in a different order
 * or on another backend starts from the same weights. Non-trainable state (batch-norm running
 * statistics) lives in the same store, so checkpoints and the exporter see one flat map.
 */
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** 32-bit FNV-1a of a string, used to derive a per-parameter seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Engine-wide variable names must be unique; stores in one process get distinct suffixes. */
let storeCounter = 0;

export class ParamStore {
  private readonly variables = new Map<string, tf.Variable>();
  private readonly trainableNames = new Set<string>();
  private readonly instance = ++storeCounter;
  private frozenPrefixes: readonly string[] = [];

  constructor(readonly seed: number) {}

  /**
   * Runs `fn` with the parameters under `prefixes` frozen: reads of them return a value whose gradient
   * is zero, so a loss computed inside reaches other parameters (and inputs) but not these. The main
   * step uses this to apply the encoder to its outputs without training the encoder.
   */
  withFrozen<T>(prefixes: readonly string[], fn: () => T): T {
    const previous = this.frozenPrefixes;
    this.frozenPrefixes = [...previous, ...prefixes];
    try {
      return fn();
    } finally {
      this.frozenPrefixes = previous;
    }
  }

  /** A trainable weight drawn from N(mean, std²), seeded by the store's seed and the name. */
  normal(name: string, shape: number[], std = 0.02, mean = 0): tf.Variable {
    const seed = (hashName(name) ^ Math.imul(this.seed + 1, 0x9e3779b1)) >>> 0;
    return this.add(name, tf.randomNormal(shape, mean, std, 'float32', seed), true);
  }

  /** A trainable weight filled with one value (biases: 0; PReLU slopes: 0.25). */
  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value), true);
  }

  /** Non-trainable state, such as batch-norm running statistics; saved and exported like a weight. */
  state(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value), false);
  }

  has(name: string): boolean {
    return this.variables.has(name);
  }

  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`No parameter named "${name}".`);
    if (this.frozenPrefixes.some((p) => name.startsWith(p))) {
      // A frozen read is a plain tensor, not the variable: forward passes only read weights, and frozen
      // names are never assigned to (only batch-norm state is, and it is never frozen).
      return stopGradient(v) as unknown as tf.Variable;
    }
    return v;
  }

  /** The parameter's name for a variable of this store (inverse of get). */
  nameOf(variable: tf.Variable): string {
    for (const [name, v] of this.variables) if (v === variable) return name;
    throw new Error(`Variable "${variable.name}" does not belong to this store.`);
  }

  /** Every name, in registration order. */
  names(): string[] {
    return [...this.variables.keys()];
  }

  /** Trainable variables whose name starts with one of the prefixes (all trainable ones without prefixes). */
  trainable(prefixes?: readonly string[]): tf.Variable[] {
    return [...this.variables.entries()]
      .filter(([name]) => this.trainableNames.has(name))
      .filter(([name]) => !prefixes || prefixes.some((p) => name.startsWith(p)))
      .map(([, v]) => v);
  }

  isTrainable(name: string): boolean {
    return this.trainableNames.has(name);
  }

  /** Number of trainable scalars under the prefixes. */
  count(prefixes?: readonly string[]): number {
    return this.trainable(prefixes).reduce((n, v) => n + v.size, 0);
  }

  /** Copies every parameter and state value out of the backend. */
  toNamedArrays(): Record<string, NamedArray> {
    const out: Record<string, NamedArray> = {};
    for (const [name, v] of this.variables) {
      out[name] = { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) };
    }
    return out;
  }

  /**
   * Overwrites values from a saved map; names and shapes must match the store exactly, except that
   * parameters for which `keepInitial(name)` holds may be absent and then keep their initial values
   * (a run that adds a part when it resumes).
   */
  load(arrays: Record<string, NamedArray>, keepInitial: (name: string) => boolean = () => false): void {
    const missing = this.names().filter((n) => !(n in arrays) && !keepInitial(n));
    const extra = Object.keys(arrays).filter((n) => !this.variables.has(n));
    if (missing.length || extra.length) {
      throw new Error(
        `Parameters do not match the model: missing [${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}], ` +
          `unexpected [${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}].`,
      );
    }
    for (const [name, v] of this.variables) {
      const array = arrays[name];
      if (array === undefined) continue;
      const { shape, data } = array;
      if (shape.join('x') !== v.shape.join('x')) {
        throw new Error(`Parameter "${name}" has shape [${shape}] in the file but [${v.shape}] in the model.`);
      }
      tf.tidy(() => v.assign(tf.tensor(data, shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    this.trainableNames.clear();
  }

  private add(name: string, initial: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.variables.has(name)) {
      initial.dispose();
      throw new Error(`Parameter "${name}" is declared twice.`);
    }
    const v = tf.variable(initial, trainable, `${name}@${this.instance}`);
    initial.dispose();
    this.variables.set(name, v);
    if (trainable) this.trainableNames.add(name);
    return v;
  }
}

/** Parameter-name prefixes owned by each optimiser. */
export const OPTIMISER_GROUPS = {
  aux: ['enc.', 'decAux.'],
  main: ['tpfr.', 'dec.'],
  discriminator: ['disc.'],
} as const;
