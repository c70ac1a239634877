/**
 * The engine on its own thread, with the bundled model and real images: the same bytes as the engine
 * on the calling thread, progress and previews relayed, errors keeping their codes, cancellation, a
 * lost thread failing its requests and being replaced, and the calling thread left free meanwhile.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DomainError } from '../../../functions/core';
import type { StylizeProgress, StylizeRequest } from '../../../functions/core/ports/stylize-engine';
import { ThreadedStylizeEngine } from '../../../functions/worker/engine-thread/threaded-stylize-engine';
import { OnnxStylizeEngine } from '../../../functions/worker/onnx-stylize-engine';

const ROOT = path.join(__dirname, '..', '..', '..');
const MODEL = path.join(ROOT, 'models', 'default');
const SAMPLE = path.join(ROOT, 'datasets', 'sample');
const content = readFileSync(path.join(SAMPLE, 'content', 'chelsea.jpg'));
const style = readFileSync(path.join(SAMPLE, 'style', 'starry-night.jpg'));
const request = (extra: Partial<StylizeRequest> = {}): StylizeRequest => ({
  content,
  styles: [{ image: style }],
  size: 128,
  renderScale: 1,
  format: 'png',
  ...extra,
});

describe('ThreadedStylizeEngine', () => {
  const resolved: unknown[] = [];
  const engine = new ThreadedStylizeEngine({
    resolveModelDir: async (model) => {
      resolved.push(model);
      return MODEL;
    },
  });
  afterAll(() => engine.close());

  it('gives the bytes the engine gives on the calling thread, and relays progress with the preview', async () => {
    const here = new OnnxStylizeEngine({ resolveModelDir: async () => MODEL });
    const expected = await here.stylize(request());
    const reports: StylizeProgress[] = [];
    const model = { id: 'm-1', packagePrefix: 'models/m-1/' };
    const out = await engine.stylize(request({ preview: true, model }), { onProgress: (p) => reports.push(p) });
    expect(Buffer.from(out.image).equals(Buffer.from(expected.image))).toBe(true);
    expect([out.width, out.height, out.format]).toEqual([expected.width, expected.height, 'png']);
    // The model folder is resolved on the calling thread, where the model cache is.
    expect(resolved).toEqual([model]);
    const stages = reports.map((r) => r.stage);
    expect(stages).toEqual(expect.arrayContaining(['read', 'encode', 'transfer', 'render', 'preview', 'write']));
    const preview = reports.find((r) => r.stage === 'preview')?.preview;
    expect(Buffer.from(preview!.image).subarray(0, 2).toString('hex')).toBe('ffd8'); // a JPEG
  });

  it('keeps an error code across the threads', async () => {
    const failure = await engine
      .stylize(request({ content: new Uint8Array([1, 2, 3, 4]) }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DomainError);
    expect((failure as DomainError).code).toBe('INVALID_IMAGE');
  });

  it('cancels a running request, and refuses one cancelled before it starts', async () => {
    const controller = new AbortController();
    const failure = await engine
      .stylize(request({ size: 512 }), {
        signal: controller.signal,
        onProgress: (p) => p.stage === 'encode' && controller.abort(),
      })
      .catch((error: unknown) => error);
    expect((failure as DomainError).code).toBe('CANCELLED');
    const early = await engine.stylize(request(), { signal: AbortSignal.abort() }).catch((error: unknown) => error);
    expect((early as Error).name).toBe('AbortError');
  });

  it('close() cancels a running request at its next step, and a later request starts a new thread', async () => {
    const stages: string[] = [];
    const job = engine.stylize(request({ size: 512 }), { onProgress: (p) => stages.push(p.stage) });
    while (!stages.includes('encode')) await new Promise((resolve) => setTimeout(resolve, 20));
    await engine.close();
    const failure = await job.catch((error: unknown) => error);
    expect((failure as DomainError).code).toBe('CANCELLED');
    const again = await engine.stylize(request());
    expect(again.width).toBe(128);
  });

  it('fails the requests of a thread that dies with UNAVAILABLE, and gives the next request a new thread', async () => {
    const dying = new ThreadedStylizeEngine({
      resolveModelDir: async () => MODEL,
      threadEntry: path.join(__dirname, 'support', 'dying-engine-thread.js'),
    });
    const reports: string[] = [];
    for (let i = 0; i < 2; i++) {
      // Were the dead thread reused, the second request would never be answered.
      const failure = await dying
        .stylize(request(), { onProgress: (p) => reports.push(p.stage) })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DomainError);
      expect((failure as DomainError).code).toBe('UNAVAILABLE');
      expect((failure as Error).message).toBe("The stylize engine's thread stopped (exit code 7).");
    }
    expect(reports).toEqual(['read', 'read']);
    await dying.close();
  });

  it('leaves the calling thread free while a large image renders', async () => {
    // On the calling thread this decode (512 px at render scale 2) holds the event loop for seconds.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    await engine.stylize(request({ size: 512, renderScale: 2 }));
    delay.disable();
    expect(delay.max / 1e6).toBeLessThan(1000);
  });
});
