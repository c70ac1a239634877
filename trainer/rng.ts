/**
 * Mulberry32: a tiny seedable generator whose whole state is one 32-bit integer, so it serialises into
 * a checkpoint and a resumed run draws the same numbers as an uninterrupted one.
 */
export class Mulberry32 {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, 2³¹) for seeding tfjs ops. */
  nextSeed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  state(): number {
    return this.s;
  }

  setState(s: number): void {
    this.s = s >>> 0;
  }
}
