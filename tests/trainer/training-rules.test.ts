/**
 * The trainer's answers to the core's training-rules port: the checks `peerstyle train` applies to a
 * preset, its overrides and a run length, and the cost figures of flops.ts and memory.ts.
 */
import { applyOverrides, presetConfig } from '../../trainer/config';
import { iterationFlops } from '../../trainer/flops';
import { iterationMemory } from '../../trainer/memory';
import { TRAINER_RULES } from '../../trainer/training-rules';

describe('TRAINER_RULES', () => {
  test('lists the trainer’s presets', () => {
    expect(TRAINER_RULES.presets).toEqual(['paper', 'small', 'tiny']);
  });

  test('a run it accepts costs what flops.ts and memory.ts say of the config with its overrides', () => {
    const config = applyOverrides(presetConfig('tiny'), { ngf: '8' });
    expect(TRAINER_RULES.checkRun('tiny', { ngf: '8' }, 20)).toEqual({
      ok: true,
      cost: { flopsPerIteration: iterationFlops(config).total, memoryBytes: iterationMemory(config).total },
    });
    // The overrides change the cost: a wider network costs more.
    const wider = TRAINER_RULES.checkRun('tiny', { ngf: '16' }, 20);
    const narrow = TRAINER_RULES.checkRun('tiny', { ngf: '8' }, 20);
    expect(wider.ok && narrow.ok && wider.cost.flopsPerIteration > narrow.cost.flopsPerIteration).toBe(true);
    // So does the texture loss on the style codes: one more decoder pass and its activations.
    const codes = TRAINER_RULES.checkRun('tiny', { ngf: '8', lambdaTextureCodes: '1' }, 20);
    expect(codes.ok && narrow.ok && codes.cost.flopsPerIteration > narrow.cost.flopsPerIteration).toBe(true);
    expect(codes.ok && narrow.ok && codes.cost.memoryBytes > narrow.cost.memoryBytes).toBe(true);
  });

  test('refuses every bad override at once, on the hyperparameters', () => {
    const check = TRAINER_RULES.checkRun('small', { colour: 'red', ngf: 'many' }, 10);
    expect(check).toMatchObject({ ok: false, field: 'hyperparameters' });
    const problem = check.ok ? '' : check.problem;
    expect(problem).toContain('"colour"');
    expect(problem).toContain('ngf');
    expect(problem).not.toContain('\n');
  });

  test('refuses a run length its schedule cannot follow, on the steps', () => {
    // With iterations set, the learning rate reaches 0 there: a longer run is refused.
    expect(TRAINER_RULES.checkRun('tiny', { iterations: '30' }, 31)).toMatchObject({ ok: false, field: 'steps' });
    expect(TRAINER_RULES.checkRun('tiny', { iterations: '30' }, 30)).toMatchObject({ ok: true });
    // A decay set by hand must fit in the run.
    expect(TRAINER_RULES.checkRun('tiny', { decayIterations: '30' }, 20)).toMatchObject({ ok: false, field: 'steps' });
  });

  test('refuses a preset it does not have, naming the ones it has', () => {
    expect(TRAINER_RULES.checkRun('huge', {}, 10)).toEqual({
      ok: false,
      field: 'preset',
      problem: 'must be one of paper, small, tiny, got "huge".',
    });
  });
});
