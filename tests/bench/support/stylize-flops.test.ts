/**
 * The stylisation FLOP count the speed benchmarks divide by: it must follow the model's config, since a
 * TPFR stage that the config switches off costs nothing in either the TF.js forward pass or the graph.
 */
import { stylizeFlops } from '../../../bench/support/stylize-flops';
import { presetConfig } from '../../../trainer/config';
import { stageWidths } from '../../../trainer/layers/tpfr';

test('the FLOP count leaves out a TPFR stage the config switches off', () => {
  const both = { ...presetConfig('small'), styleTransfer: true, contentTransfer: true };
  const first = { ...both, contentTransfer: false };
  const size = { height: 64, width: 64 };
  const n = 16 * 16;
  const s2 = stageWidths(both, 's2');
  // Stage 2 alone: distances over its keys, the MLP on rows and peers, α·V over all peers (its values are
  // the 4ngf content codes).
  const stage2 = 2 * n * n * s2.in + 2 * n * 2 * (s2.in * s2.hidden + s2.hidden * s2.out) + 2 * n * n * 4 * both.ngf;
  const withBoth = stylizeFlops(both, size, size, 1, n);
  const withFirst = stylizeFlops(first, size, size, 1, n);
  expect(withBoth.tpfrModel - withFirst.tpfrModel).toBe(stage2);
  expect(withBoth.encoderContent).toBe(withFirst.encoderContent);
});
