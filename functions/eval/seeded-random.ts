/**
 * A tiny seeded random generator for the evaluation's fixed random quantities (texture-network weights,
 * projection directions, the pair subset). The metrics must give the same figures on every machine and
 * in every run, so nothing here may touch `Math.random`.
 */

/** A source of uniform and normal deviates, fully determined by its seed. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
}

/**
 * Creates a generator from a 32-bit seed: mulberry32 for uniforms (small, fast, and good enough for
 * weight initialisation), Box-Muller for normals.
 */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}
