/**
 * Random weights for a whole TSPR model in tests. The official initialisation (zero biases, unit batch
 * norm, weights of std 0.02) leaves whole code paths numerically idle, so every array is redrawn: weights
 * and biases from N(0, 0.2²), PReLU slopes near 0.2, batch-norm running variances in [0.5, 1.5) so that
 * folding them into the Linear layers is exercised.
 */
import type { NamedArray, ParamStore } from '../../trainer/nn/params';
import { randomArray } from './export-helpers';

/** Overwrites every parameter of `store` with seeded random values. */
export function randomiseStore(store: ParamStore, seed: number): void {
  const values: Record<string, NamedArray> = {};
  store.names().forEach((name, i) => {
    const shape = [...store.get(name).shape];
    const s = seed * 1000 + i;
    if (name.endsWith('.alpha')) values[name] = randomArray(shape, s, 0.1, 0.2);
    else if (name.endsWith('.runningVar') || name.endsWith('.condition.var')) {
      values[name] = absolute(randomArray(shape, s, 0.3, 1), 0.5);
    } else if (name.endsWith('.gamma')) values[name] = randomArray(shape, s, 0.2, 1);
    else values[name] = randomArray(shape, s, 0.2);
  });
  store.load(values);
}

function absolute(a: NamedArray, floor: number): NamedArray {
  return { shape: a.shape, data: a.data.map((v) => Math.max(floor, Math.abs(v))) };
}
