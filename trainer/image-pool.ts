/**
 * The discriminator's history buffer (CycleGAN's ImagePool, as the official code uses it over
 * (real, fake, style) triplets): until it holds `size` entries every query is stored and returned; after
 * that a query returns, with probability ½, a stored entry (replaced by the new one), else the new one.
 * Showing D older fakes damps oscillation. Its random choices come from a seeded generator and its
 * contents are plain arrays, so a checkpoint restores it exactly.
 */
import { must } from '../functions/core/must';
import { Mulberry32 } from './rng';

export interface Triplet {
  real: Float32Array;
  fake: Float32Array;
  style: Float32Array;
}

export interface ImagePoolState {
  entries: Triplet[];
  rng: number;
}

export class ImagePool {
  private entries: Triplet[] = [];
  private readonly rng: Mulberry32;

  constructor(
    readonly size: number,
    seed: number,
  ) {
    this.rng = new Mulberry32(seed);
  }

  query(current: Triplet): Triplet {
    if (this.size === 0) return current;
    if (this.entries.length < this.size) {
      this.entries.push(current);
      return current;
    }
    if (this.rng.next() < 0.5) return current;
    const i = Math.floor(this.rng.next() * this.size);
    const old = must(this.entries[i], `pool entry ${i}`); // i < size, and the pool is full
    this.entries[i] = current;
    return old;
  }

  get length(): number {
    return this.entries.length;
  }

  state(): ImagePoolState {
    return { entries: this.entries, rng: this.rng.state() };
  }

  load(state: ImagePoolState): void {
    this.entries = [...state.entries];
    this.rng.setState(state.rng);
  }
}
