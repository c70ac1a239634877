/**
 * The engine adapter as the AWS Batch worker uses it (the same `OnnxStylizeEngine` the local server
 * uses): the worker's execution provider reaches the engine, a job cancelled while its model loads is
 * not started, and an engine failure keeps the engine's own code beside the platform's. The engine
 * module is the recording stand-in the other engine adapter tests use, so no model is loaded.
 */
import path from 'node:path';
import { DomainError } from '../../../functions/core';
import { OnnxStylizeEngine } from '../../../functions/worker/onnx-stylize-engine';

const FAKE = path.join(__dirname, 'support', 'fake-engine-module.ts');
type Fake = typeof import('./support/fake-engine-module');

const request = { content: new Uint8Array([1]), styles: [{ image: new Uint8Array([2]) }] };

test('the worker asks for CUDA and the engine is created with it', async () => {
  const engine = new OnnxStylizeEngine({
    engineModule: FAKE,
    intraOpThreads: 4,
    executionProvider: 'cuda',
    resolveModelDir: async () => '/cache/tspr-default',
  });
  await engine.stylize(request);
  const fake = (await import(FAKE)) as Fake;
  expect(fake.created).toContainEqual({
    modelDir: '/cache/tspr-default',
    intraOpThreads: 4,
    executionProvider: 'cuda',
  });
});

test('a job cancelled before inference starts is not passed to the engine', async () => {
  const fake = (await import(FAKE)) as Fake;
  const engine = new OnnxStylizeEngine({ engineModule: FAKE, resolveModelDir: async () => '/cache/cancelled' });
  const controller = new AbortController();
  controller.abort();
  const before = fake.requests.length;
  await expect(engine.stylize(request, { signal: controller.signal })).rejects.toThrow();
  expect(fake.requests.length).toBe(before);
});

test('an engine failure becomes a DomainError that still names the engine code', async () => {
  const engine = new OnnxStylizeEngine({ engineModule: FAKE, resolveModelDir: async () => '/cache/bad' });
  const error = await engine.stylize({ ...request, strength: 0.25 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  expect(error).toMatchObject({ code: 'INVALID_IMAGE', details: { engineCode: 'INVALID_IMAGE' } });
});
