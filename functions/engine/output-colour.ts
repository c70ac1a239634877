/**
 * Which colours a decoded image takes, as the model was trained: the style images' colour statistics
 * (pooled, each image weighted like its TPFR peers) blended with the content's own by strength, put on
 * the decoder's output by the package's colour step: the colour head (`colorHead`), the mean and
 * per-channel deviation (`colorMean`, `colorStd`), or the whole covariance (`colorCov`).
 */
import type { ModelManifest } from '../../trainer/export/package-format';
import { applyColourHead, blendStats, colourMoments, pooledStats, withMeanColour } from './colour-head';
import { blendGaussians, covarianceMoments, pooledGaussian, transportColours } from './colour-covariance';
import type { RgbImage } from './image-io';
import type { FloatTensor } from './onnx-session';

/** A decoder output [1, 3, H, W] → the same with the colour step applied (its buffer may be reused). */
export type ColourStep = (decoded: FloatTensor) => FloatTensor;

export function outputColourStep(
  manifest: Pick<ModelManifest, 'config' | 'colourHead'>,
  content: RgbImage,
  styles: { image: RgbImage; weight: number }[],
  strength: number,
): ColourStep {
  const { colorHead, colorMean, colorStd, colorCov } = manifest.config;
  const head = manifest.colourHead;
  if (colorCov) {
    const target = blendGaussians(
      pooledGaussian([{ moments: covarianceMoments(content), weight: 1 }]),
      pooledGaussian(styles.map(({ image, weight }) => ({ moments: covarianceMoments(image), weight }))),
      strength,
    );
    return (decoded) => {
      const [, , h, w] = decoded.dims;
      transportColours(decoded.data, h! * w!, target);
      return decoded;
    };
  }
  if (!colorMean && !(colorHead && head)) return (decoded) => decoded;
  const stats = blendStats(
    pooledStats([{ moments: colourMoments(content), weight: 1 }]),
    pooledStats(styles.map(({ image, weight }) => ({ moments: colourMoments(image), weight }))),
    strength,
  );
  return colorMean
    ? (decoded) => withMeanColour(decoded, stats, colorStd)
    : (decoded) => applyColourHead(decoded, stats, head!, true);
}
