/**
 * A small seedable pseudo-random generator whose whole state is four 32-bit integers, so that a
 * training run can write it into a checkpoint and resume with exactly the numbers it would have drawn.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 32-bit variant): it passes
 * PractRand, needs only integer adds, shifts and xors, and its state is trivially serialisable. Seeds are
 * expanded with splitmix32 so that neighbouring seeds (1, 2, 3...) give unrelated streams.
 */

/** The serialisable state of a {@link Random}: four unsigned 32-bit integers. */
export type RandomState = [number, number, number, number];

/** splitmix32 step: a well-mixed 32-bit value from a counter; used only to expand seeds. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * Derives an independent 32-bit seed from a base seed and a list of integers (for example an epoch number
 * and a stream id), so that each epoch's shuffle can be regenerated without storing it.
 */
export function deriveSeed(base: number, ...parts: number[]): number {
  let h = splitmix32(base >>> 0);
  for (const part of parts) h = splitmix32((h ^ Math.imul(part >>> 0, 0x85ebca6b)) >>> 0);
  return h;
}

/** Seeded generator of uniform numbers with a JSON-serialisable state. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Starts a stream from an integer seed; use {@link Random.fromState} to resume one. */
  constructor(seed: number) {
    this.a = splitmix32(seed >>> 0);
    this.b = splitmix32(this.a);
    this.c = splitmix32(this.b);
    this.d = 1; // sfc32's counter; starting at 1 keeps the all-zero state unreachable.
    // The first outputs of sfc32 are correlated with the seed; discarding a few is the usual remedy.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Resumes a stream exactly where {@link Random.state} was taken. */
  static fromState(state: RandomState): Random {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
    ) {
      throw new Error(`Invalid random state ${JSON.stringify(state)}: expected four unsigned 32-bit integers.`);
    }
    const rng = new Random(0);
    [rng.a, rng.b, rng.c, rng.d] = state;
    return rng;
  }

  /** A copy of the state, safe to JSON-serialise. */
  state(): RandomState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Random.int needs a positive integer bound, got ${n}.`);
    return Math.floor(this.next() * n);
  }

  /** Shuffles an array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }

  /** A shuffled list of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}
