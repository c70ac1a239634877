/**
 * Widening the upsampling path of trained decoders (`peerstyle train --init <model> --decoderWidth=N`).
 *
 * Each channel of the up1 and up2 stages is repeated `factor` times, and every layer that reads those
 * channels splits each of its weights between the copies. The widened decoder computes exactly what the
 * trained one did: the copies hold equal values, because the instance norms between the stages have no
 * affine parameters and ReLU acts channel by channel, and the split weights sum to the original ones.
 *
 * The split is uneven, a seeded random share per weight: with an even split the copies would receive
 * equal gradients and stay equal for the rest of training, so the extra width would never be used.
 */
import type { UpsampleMode } from './config';
import { DECODER_PREFIXES } from './networks/decoder';
import type { NamedArray } from './nn/params';
import { Mulberry32 } from './rng';

/** Weight axes of the input and output channels: conv2d is [k, k, in, out], TF.js's transposed conv [k, k, out, in]. */
function channelAxes(upsample: UpsampleMode): { inAxis: 2 | 3; outAxis: 2 | 3 } {
  return upsample === 'transpose' ? { inAxis: 3, outAxis: 2 } : { inAxis: 2, outAxis: 3 };
}

/**
 * Repeats a 4-D weight `factor` times along its channel axes: along `repeatAxis` each copy keeps the
 * original value (new channel c + C·r is a copy of c); along `splitAxis` the copies of one input channel
 * share the original value by random fractions summing to one. Either axis may be absent.
 */
function widenWeight(
  array: NamedArray,
  factor: number,
  axes: { repeatAxis?: 2 | 3; splitAxis?: 2 | 3 },
  random: () => number,
): NamedArray {
  const [kh, kw, c2, c3] = array.shape as [number, number, number, number];
  const grows = (axis: 2 | 3): boolean => axes.repeatAxis === axis || axes.splitAxis === axis;
  const copies2 = grows(2) ? factor : 1;
  const copies3 = grows(3) ? factor : 1;
  const n2 = c2 * copies2;
  const n3 = c3 * copies3;
  const splitCopies = axes.splitAxis === undefined ? 1 : factor;
  const data = new Float32Array(kh * kw * n2 * n3);
  for (let k = 0; k < kh * kw; k++) {
    for (let i = 0; i < c2; i++) {
      for (let o = 0; o < c3; o++) {
        const value = array.data[(k * c2 + i) * c3 + o] as number;
        const shares = randomShares(splitCopies, random);
        for (let r2 = 0; r2 < copies2; r2++) {
          for (let r3 = 0; r3 < copies3; r3++) {
            const splitCopy = axes.splitAxis === 2 ? r2 : axes.splitAxis === 3 ? r3 : 0;
            data[(k * n2 + i + c2 * r2) * n3 + o + c3 * r3] = value * (shares[splitCopy] as number);
          }
        }
      }
    }
  }
  return { shape: [kh, kw, n2, n3], data };
}

/** `count` uneven positive fractions summing to one (each at most twice another). */
function randomShares(count: number, random: () => number): number[] {
  if (count === 1) return [1];
  const raw = Array.from({ length: count }, () => 1 + random());
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((x) => x / sum);
}

function repeatBias(array: NamedArray, factor: number): NamedArray {
  const [c] = array.shape as [number];
  const data = new Float32Array(c * factor);
  for (let r = 0; r < factor; r++) data.set(array.data, r * c);
  return { shape: [c * factor], data };
}

function need(params: Readonly<Record<string, NamedArray>>, name: string): NamedArray {
  const array = params[name];
  if (array === undefined) throw new Error(`The weights have no "${name}" to widen.`);
  return array;
}

/**
 * The parameters with both decoders' upsampling paths `factor` times as wide; every other parameter is
 * passed through untouched. `seed` fixes the random split.
 */
export function widenDecoders(
  params: Readonly<Record<string, NamedArray>>,
  factor: number,
  upsample: UpsampleMode,
  seed: number,
): Record<string, NamedArray> {
  if (!Number.isInteger(factor) || factor < 1)
    throw new Error(`The widening factor must be a positive integer, got ${factor}.`);
  const out: Record<string, NamedArray> = { ...params };
  if (factor === 1) return out;
  const rng = new Mulberry32(seed);
  const random = (): number => rng.next();
  const { inAxis, outAxis } = channelAxes(upsample);
  for (const prefix of DECODER_PREFIXES) {
    const up1 = `${prefix}.up1`;
    const up2 = `${prefix}.up2`;
    const last = `${prefix}.out`;
    out[`${up1}.weight`] = widenWeight(need(params, `${up1}.weight`), factor, { repeatAxis: outAxis }, random);
    out[`${up1}.bias`] = repeatBias(need(params, `${up1}.bias`), factor);
    out[`${up2}.weight`] = widenWeight(
      need(params, `${up2}.weight`),
      factor,
      { repeatAxis: outAxis, splitAxis: inAxis },
      random,
    );
    out[`${up2}.bias`] = repeatBias(need(params, `${up2}.bias`), factor);
    // The 7×7 output conv is an ordinary conv in both upsampling modes: [7, 7, in, 3].
    out[`${last}.weight`] = widenWeight(need(params, `${last}.weight`), factor, { splitAxis: 2 }, random);
  }
  return out;
}
