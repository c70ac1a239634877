/**
 * Adam over a named group of ParamStore variables, with PyTorch's update rule (eps 1e-8 added to
 * sqrt(v̂), bias correction by step count) and a state that is plain named arrays, so a checkpoint
 * restores it exactly. TSPR trains with three of these (auxiliary, main, discriminator), each owning the
 * parameters under its prefixes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray, ParamStore } from '../nn/params';

export interface AdamSettings {
  beta1: number;
  beta2: number;
  eps?: number;
}

export interface AdamState {
  step: number;
  moments: Record<string, { m: NamedArray; v: NamedArray }>;
}

export class Adam {
  private step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly eps: number;

  constructor(
    private readonly store: ParamStore,
    readonly prefixes: readonly string[],
    private readonly settings: AdamSettings,
  ) {
    this.eps = settings.eps ?? 1e-8;
  }

  /** Names of the parameters this optimiser updates. */
  paramNames(): string[] {
    return this.store.names().filter((n) => this.store.isTrainable(n) && this.prefixes.some((p) => n.startsWith(p)));
  }

  /**
   * One update with the given learning rate. `grads` maps parameter names to gradients; parameters of
   * this group without a gradient (not reached by the loss) keep their value and moments.
   */
  apply(grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.step += 1;
    const { beta1, beta2 } = this.settings;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    const stepSize = learningRate / correction1;
    for (const name of this.paramNames()) {
      const g = grads[name];
      if (!g) continue;
      const param = this.store.get(name);
      const m = this.moment(this.m, name, param.shape);
      const v = this.moment(this.v, name, param.shape);
      tf.tidy(() => {
        const mNext = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.sqrt(tf.div(vNext, correction2)), this.eps);
        param.assign(tf.sub(param, tf.mul(tf.div(mNext, denom), stepSize)));
        m.assign(mNext);
        v.assign(vNext);
      });
    }
  }

  state(): AdamState {
    const moments: AdamState['moments'] = {};
    for (const [name, m] of this.m) {
      const v = this.v.get(name)!;
      moments[name] = {
        m: { shape: [...m.shape], data: Float32Array.from(m.dataSync() as Float32Array) },
        v: { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) },
      };
    }
    return { step: this.step, moments };
  }

  load(state: AdamState): void {
    this.disposeMoments();
    this.step = state.step;
    for (const [name, { m, v }] of Object.entries(state.moments)) {
      if (!this.store.has(name)) throw new Error(`Optimiser state names unknown parameter "${name}".`);
      this.m.set(name, tf.variable(tf.tensor(m.data, m.shape, 'float32'), false));
      this.v.set(name, tf.variable(tf.tensor(v.data, v.shape, 'float32'), false));
    }
  }

  dispose(): void {
    this.disposeMoments();
  }

  private moment(map: Map<string, tf.Variable>, name: string, shape: number[]): tf.Variable {
    let t = map.get(name);
    if (!t) {
      t = tf.variable(tf.zeros(shape), false);
      map.set(name, t);
    }
    return t;
  }

  private disposeMoments(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/**
 * The reference's schedule: constant for `iterations − decayIterations` iterations, then linear decay
 * (`1 − max(0, t + 1 − constant) / (decay + 1)`, as its per-epoch rule, applied per iteration). It is 0
 * from `iterations` on and never below: the reference's rule alone goes negative past its end, and a
 * negative rate turns every Adam step uphill.
 */
export function learningRateAt(iteration: number, base: number, iterations: number, decayIterations: number): number {
  const constant = iterations - decayIterations;
  return base * Math.max(0, 1 - Math.max(0, iteration + 1 - constant) / (decayIterations + 1));
}
