/**
 * A checkpoint whose arrays lack one that its meta or its other names promise (an optimiser's second
 * moment, an image-pool entry) is refused with a CheckpointError naming the array, rather than failing
 * later with a TypeError or restoring an optimiser with a missing moment.
 *
 * The trainer here is a stand-in with no-op loaders: restoring reaches the arrays before any real
 * trainer state matters, and a real trainer would need a model built for nothing.
 */
import { CheckpointError, restoreTrainer, type CheckpointMeta } from '../../trainer/checkpoint';
import type { NamedArray } from '../../trainer/nn/params';
import type { TsprTrainer } from '../../trainer/train-step';

const loads: string[] = [];
const loader = (what: string) => ({ load: () => void loads.push(what) });
const trainer = {
  store: loader('store'),
  aux: loader('aux'),
  main: loader('main'),
  disc: loader('disc'),
  pool: loader('pool'),
  load: () => void loads.push('trainer'),
} as unknown as TsprTrainer;

function metaWith(poolEntries: number): CheckpointMeta {
  return {
    optimisers: { aux: { step: 1 }, main: { step: 1 }, disc: { step: 1 } },
    pool: { rng: 1, entries: poolEntries },
    trainer: {},
  } as unknown as CheckpointMeta;
}

const array = (): NamedArray => ({ shape: [2], data: new Float32Array(2) });

describe('restoreTrainer with an incomplete checkpoint', () => {
  beforeEach(() => loads.splice(0));

  it('names a missing second moment', () => {
    const arrays = { 'adam/main/m/enc.conv.weight': array() };
    expect(() => restoreTrainer(trainer, metaWith(0), arrays)).toThrow(
      new CheckpointError('The checkpoint has no array "adam/main/v/enc.conv.weight"; it is incomplete.'),
    );
  });

  it('names a missing image-pool entry', () => {
    const arrays = { 'pool/0/real': array(), 'pool/0/fake': array(), 'pool/0/style': array(), 'pool/1/real': array() };
    expect(() => restoreTrainer(trainer, metaWith(2), arrays)).toThrow(
      new CheckpointError('The checkpoint has no array "pool/1/fake"; it is incomplete.'),
    );
  });

  it('restores a complete one', () => {
    const arrays = {
      'adam/main/m/enc.conv.weight': array(),
      'adam/main/v/enc.conv.weight': array(),
      'pool/0/real': array(),
      'pool/0/fake': array(),
      'pool/0/style': array(),
    };
    restoreTrainer(trainer, metaWith(1), arrays);
    expect(loads).toEqual(['store', 'aux', 'main', 'disc', 'pool', 'trainer']);
  });
});
