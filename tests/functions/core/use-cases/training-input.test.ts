/**
 * The TRAIN job input: what the submission parser makes of a request, what every runner reads back
 * from a stored job (including records that are not what the parser makes), and the hyperparameters
 * the trainer is given.
 */

import { createJob, ErrorCode, type JsonValue } from '../../../../functions/core';
import {
  DEFAULT_LIMITS,
  parseTrainingRequest,
  trainerHyperparameters,
  trainingInputOf,
} from '../../../../functions/core/use-cases';
import type { TrainingRules } from '../../../../functions/core/ports/training-rules';
import { TRAINER_RULES } from '../../../../trainer/training-rules';
import { expectDomainError } from '../../../support/expect-domain-error';

const T0 = Date.parse('2030-05-01T10:00:00Z');
const limits = { ...DEFAULT_LIMITS, datasetFolders: ['sample'] };
const trainJob = (input: JsonValue, owner = 'alice') => createJob('j1', { owner, kind: 'TRAIN', input }, T0);

describe('parseTrainingRequest and trainingInputOf', () => {
  test('a stored request reads back as the input the parser made', () => {
    const { input, cost } = parseTrainingRequest(
      'alice',
      {
        dataset: { uploadPrefix: 'uploads/alice/set-1/' },
        preset: 'tiny',
        steps: 4,
        hyperparameters: [{ key: 'logEvery', value: '1' }],
        modelName: 'oils',
      },
      limits,
      TRAINER_RULES,
    );
    expect(cost.flopsPerIteration).toBeGreaterThan(0);
    // Stored as JSON, as both job stores keep it.
    const stored = JSON.parse(JSON.stringify(input)) as JsonValue;
    expect(trainingInputOf(trainJob(stored))).toEqual(input);
    expect(input).toEqual({
      dataset: { uploadPrefix: 'uploads/alice/set-1/' },
      preset: 'tiny',
      steps: 4,
      hyperparameters: { logEvery: '1' },
      modelName: 'oils',
    });
  });

  test('the parser refuses a model-name hyperparameter, which no request may set', async () => {
    const refused = await expectDomainError(
      () =>
        parseTrainingRequest(
          'alice',
          {
            dataset: { folder: 'sample' },
            preset: 'tiny',
            steps: 4,
            hyperparameters: [{ key: 'model-name', value: 'x' }],
          },
          limits,
          TRAINER_RULES,
        ),
      ErrorCode.BAD_REQUEST,
    );
    expect(refused.message).toContain('model-name');
  });

  test('a stored upload prefix outside the owner’s uploads is FORBIDDEN to every runner', async () => {
    const input = { dataset: { uploadPrefix: 'uploads/bob/set-1/' }, preset: 'tiny', steps: 4 };
    const forbidden = await expectDomainError(() => trainingInputOf(trainJob(input)), ErrorCode.FORBIDDEN);
    expect(forbidden.message).toContain('uploads/alice/');
    await expectDomainError(
      () => trainingInputOf(trainJob({ ...input, dataset: { uploadPrefix: 'uploads/alice/../bob/' } })),
      ErrorCode.FORBIDDEN,
    );
  });

  test('records that are not training inputs are BAD_REQUEST; older ones without a model name get the default', async () => {
    const base = { dataset: { folder: 'sample' }, preset: 'tiny', steps: 4 };
    expect(trainingInputOf(trainJob(base))).toMatchObject({ modelName: 'tspr-tiny', hyperparameters: {} });
    for (const input of [
      null,
      { ...base, dataset: {} },
      // Only the form of a stored preset is read back; the runner's trainer refuses a name it lacks.
      { ...base, preset: 'Huge preset' },
      { ...base, preset: 7 },
      { ...base, steps: 0 },
      { ...base, hyperparameters: { lr: 0.1 } },
    ]) {
      await expectDomainError(() => trainingInputOf(trainJob(input)), ErrorCode.BAD_REQUEST);
    }
    const stylize = createJob('j2', { owner: 'alice', kind: 'STYLIZE', input: base }, T0);
    await expectDomainError(() => trainingInputOf(stylize), ErrorCode.BAD_REQUEST);
  });

  test('the trainer gets every value as a string, with preset, steps and the model name no override replaces', () => {
    const input = trainingInputOf(
      trainJob({
        dataset: { folder: 'sample' },
        preset: 'tiny',
        steps: 4,
        hyperparameters: { lr: '0.0002', preset: 'paper', steps: '9' },
        modelName: '--verify',
      }),
    );
    expect(trainerHyperparameters(input)).toEqual({
      lr: '0.0002',
      preset: 'tiny',
      steps: '4',
      'model-name': '--verify',
    });
  });

  test('the preset, hyperparameters and run length are the trainer’s to judge: its refusal names the field, its cost comes back', async () => {
    // A stand-in for the trainer's rules, so the test shows what the core does with each answer.
    const seen: unknown[] = [];
    const rules: TrainingRules = {
      presets: ['only'],
      checkRun: (preset, overrides, steps) => {
        seen.push({ preset, overrides, steps });
        if (overrides.width === 'wide') return { ok: false, field: 'hyperparameters', problem: 'width: too wide.' };
        if (steps > 10) return { ok: false, field: 'steps', problem: 'the schedule ends at 10.' };
        return { ok: true, cost: { flopsPerIteration: 3e9, memoryBytes: 5e6 } };
      },
    };
    const request = { dataset: { folder: 'sample' }, preset: 'only', steps: 4 };
    expect(parseTrainingRequest('alice', request, limits, rules).cost).toEqual({
      flopsPerIteration: 3e9,
      memoryBytes: 5e6,
    });
    expect(seen).toEqual([{ preset: 'only', overrides: {}, steps: 4 }]);
    const wide = await expectDomainError(
      () =>
        parseTrainingRequest(
          'alice',
          { ...request, hyperparameters: [{ key: 'width', value: 'wide' }] },
          limits,
          rules,
        ),
      ErrorCode.BAD_REQUEST,
    );
    expect([wide.message, wide.details]).toEqual([
      expect.stringContaining('width: too wide.'),
      { field: 'hyperparameters' },
    ]);
    const long = await expectDomainError(
      () => parseTrainingRequest('alice', { ...request, steps: 11 }, limits, rules),
      ErrorCode.BAD_REQUEST,
    );
    expect(long.details).toEqual({ field: 'steps' });
    // A preset the trainer does not list never reaches its checks.
    const tiny = await expectDomainError(
      () => parseTrainingRequest('alice', { ...request, preset: 'tiny' }, limits, rules),
      ErrorCode.BAD_REQUEST,
    );
    expect(tiny.message).toContain('Expected one of: only');
    expect(seen).toHaveLength(3);
  });
});
