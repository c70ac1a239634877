/**
 * The summary lines of `peerstyle model inspect`: a recorded evaluation in one readable line, or its
 * JSON when the record is not the shape `peerstyle eval --record` writes; the defaults and colour step.
 */
import { describeColourStep, describeDefaults, describeEval } from '../../../functions/cli/manifest-summary';
import { presetConfig } from '../../../trainer/config';

test('a recorded evaluation reads as one line with its means and the targets it meets', () => {
  const record = {
    pairs: 32,
    size: 256,
    renderScale: 2,
    summary: { peerstyle: { ssimLuma: { mean: 0.6086 }, gramDistance: { mean: 0.2023 }, colourSwd: { mean: 7.168 } } },
    targets: [{ met: true }, { met: true }, { met: false }],
    fidelity: {
      reconstruction: { psnrLuma: { mean: 26.82 } },
      gridScore: { peerstyle: { mean: 1.308 } },
      targets: [{ met: true }, { met: true }],
    },
  };
  expect(describeEval(record)).toBe(
    '32 pairs at 256 px render scale 2: SSIM luma 0.609, Gram 0.202, colour SWD 7.17, strength 0 26.82 dB, grid 1.31; targets met 4 of 5',
  );
  expect(describeEval(undefined)).toBe('not measured');
  // Not the expected shape: shown as it is rather than half-read.
  expect(describeEval({ ssim: 0.5 })).toBe('{"ssim":0.5}');
});

test('defaults and the colour step are named', () => {
  expect(describeDefaults(undefined)).toBe('none');
  expect(describeDefaults({ structure: 'keep', styleSize: 128, renderScale: 2 })).toBe(
    'structure keep, style side 128 px, render scale 2',
  );
  expect(describeDefaults({ renderScale: 2, conditionSide: 128 })).toBe(
    'render scale 2, style condition read at 128² px',
  );
  const small = presetConfig('small');
  expect(describeColourStep({ ...small, colorStd: true, colorCov: true })).toMatch(/covariance \(colorCov\)/);
  expect(describeColourStep({ ...small, colorStd: true })).toMatch(/per-channel deviation \(colorStd\)/);
  expect(describeColourStep({ ...small, colorMean: false })).toBe('none');
});
