/**
 * The onnx engine adapter: it imports its engine module only at first use, keeps one engine per model
 * folder, passes the request's options and the engine's progress through unchanged, and reports an
 * engine that cannot be loaded as UNAVAILABLE.
 */
import path from 'node:path';
import { DomainError } from '../../../functions/core';
import { OnnxStylizeEngine } from '../../../functions/worker/onnx-stylize-engine';
import { at } from '../../support/checked';

const FAKE = path.join(__dirname, 'support', 'fake-engine-module.ts');

describe('OnnxStylizeEngine', () => {
  it('loads the engine at first use, once per model folder, and maps request and result', async () => {
    const dirs: (string | undefined)[] = [];
    const engine = new OnnxStylizeEngine({
      engineModule: FAKE,
      intraOpThreads: 2,
      resolveModelDir: async (model) => {
        dirs.push(model?.id);
        return `/models/${model?.id ?? 'builtin'}`;
      },
    });
    const fake = (await import(FAKE)) as typeof import('./support/fake-engine-module');
    expect(fake.created).toHaveLength(0); // constructing the adapter loads nothing
    const reports: unknown[] = [];
    const request = {
      content: new Uint8Array([1, 2]),
      styles: [{ image: new Uint8Array([3]) }],
      strength: 0.5,
      format: 'jpeg' as const,
    };
    const out = await engine.stylize(
      { ...request, structure: 'keep', size: 96, preview: true },
      { onProgress: (p) => reports.push(p) },
    );
    await engine.stylize({ ...request, format: 'webp' });
    await engine.stylize({ ...request, model: { id: 'm-2', packagePrefix: 'models/a/m-2/' } });

    expect(out.format).toBe('jpeg');
    expect([out.width, out.height]).toEqual([1, 1]);
    // The engine's progress reports are the port's: passed on as they are.
    expect(reports).toEqual([{ stage: 'encode', progress: 0.5 }]);
    const failure = await engine.stylize({ ...request, strength: 0.25 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DomainError);
    expect((failure as DomainError).code).toBe('INVALID_IMAGE');
    expect(fake.created).toEqual([
      { modelDir: '/models/builtin', intraOpThreads: 2 },
      { modelDir: '/models/m-2', intraOpThreads: 2 },
    ]);
    // Every option reaches the engine without the adapter naming it; the model chooses the engine instead.
    expect(fake.requests[0]).toMatchObject({
      strength: 0.5,
      structure: 'keep',
      size: 96,
      preview: true,
      format: 'jpeg',
      styles: [{ weight: 1 }],
    });
    expect(fake.requests[2]).not.toHaveProperty('model');
    expect(Buffer.isBuffer(at(fake.requests, 0).content)).toBe(true);
    expect(dirs).toEqual([undefined, undefined, 'm-2']);
  });

  it('reports an engine module that cannot be loaded as UNAVAILABLE', async () => {
    const engine = new OnnxStylizeEngine({
      engineModule: path.join(__dirname, 'support', 'no-such-engine.ts'),
      resolveModelDir: async () => '/models/x',
    });
    const error = await engine.stylize({ content: new Uint8Array(), styles: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('UNAVAILABLE');
  });
});
