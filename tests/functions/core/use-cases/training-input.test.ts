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
import { expectDomainError } from '../../../support/expect-domain-error';

const T0 = Date.parse('2030-05-01T10:00:00Z');
const limits = { ...DEFAULT_LIMITS, datasetFolders: ['sample'] };
const trainJob = (input: JsonValue, owner = 'alice') => createJob('j1', { owner, kind: 'TRAIN', input }, T0);

describe('parseTrainingRequest and trainingInputOf', () => {
  test('a stored request reads back as the input the parser made', () => {
    const { input, config } = parseTrainingRequest(
      'alice',
      {
        dataset: { uploadPrefix: 'uploads/alice/set-1/' },
        preset: 'tiny',
        steps: 4,
        hyperparameters: [{ key: 'logEvery', value: '1' }],
        modelName: 'oils',
      },
      limits,
    );
    expect(config.logEvery).toBe(1);
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
      { ...base, preset: 'huge' },
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
});
