/**
 * The colour-transfer baseline of Reinhard, Ashikhmin, Gooch and Shirley ("Color transfer between
 * images", IEEE CG&A 2001): shift and scale each channel of the content so that its mean and standard
 * deviation equal the style's. The paper works in Ruderman's lαβ space; we use CIE Lab, a documented
 * simplification with the same intent (decorrelated, roughly perceptual axes) that keeps the
 * evaluation to one colour space. It is the "colours only" reference point a stylised output should
 * beat on texture while matching it on colour.
 */
import { imageToLab, labToImage } from './lab';
import type { RgbImage } from './rgb-image';

/** Per-channel mean and (population) standard deviation of interleaved Lab colours. */
export function labMoments(lab: Float64Array): { mean: [number, number, number]; std: [number, number, number] } {
  const n = lab.length / 3;
  const mean: [number, number, number] = [0, 0, 0];
  const std: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) mean[c]! += lab[3 * i + c]!;
  for (let c = 0; c < 3; c++) mean[c]! /= n;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) std[c]! += (lab[3 * i + c]! - mean[c]!) ** 2;
  for (let c = 0; c < 3; c++) std[c] = Math.sqrt(std[c]! / n);
  return { mean, std };
}

/**
 * Reinhard transfer in Lab, before the return to 8-bit sRGB: out = (x − μc) · σs / σc + μs per channel.
 * A flat content channel (σc = 0) has no spread to scale and is only shifted.
 */
export function reinhardLab(content: Float64Array, style: Float64Array): Float64Array {
  const c = labMoments(content);
  const s = labMoments(style);
  const out = new Float64Array(content.length);
  for (let ch = 0; ch < 3; ch++) {
    const gain = c.std[ch]! > 0 ? s.std[ch]! / c.std[ch]! : 1;
    for (let i = ch; i < content.length; i += 3) out[i] = (content[i]! - c.mean[ch]!) * gain + s.mean[ch]!;
  }
  return out;
}

/**
 * The content recoloured with the style's Lab statistics, as an 8-bit image of the content's size.
 * Colours the transfer pushes outside the sRGB gamut are clipped, so the output's moments match the
 * style's closely rather than exactly.
 */
export function reinhardTransfer(content: RgbImage, style: RgbImage): RgbImage {
  return labToImage(reinhardLab(imageToLab(content), imageToLab(style)), content.width, content.height);
}
