/**
 * A stand-in for functions/engine with the same `createEngine` shape, used to check that the onnx
 * adapter loads its engine module lazily and maps requests and results faithfully. It records what it
 * was asked, and answers with a 1×1 image of the requested format. Its signatures are the engine's own
 * types, so a change to the engine's API shows here at compile time.
 */
import sharp from 'sharp';
import type { Engine, EngineOptions, StylizeRequest, StylizeResult } from '../../../../functions/engine';

export const created: EngineOptions[] = [];
export const requests: StylizeRequest[] = [];

export function createEngine(options: EngineOptions): Pick<Engine, 'stylize'> {
  created.push(options);
  return {
    async stylize(request: StylizeRequest): Promise<StylizeResult> {
      requests.push(request);
      request.onProgress?.({ stage: 'encode', progress: 0.5 });
      if (request.strength === 0.25)
        throw Object.assign(new Error('Cannot decode the content image.'), { code: 'INVALID_IMAGE' });
      const format = request.format ?? 'png';
      const image = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
        .toFormat(format)
        .toBuffer();
      return { image, width: 1, height: 1, format };
    },
  };
}
