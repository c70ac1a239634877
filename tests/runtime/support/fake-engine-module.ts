/**
 * A stand-in for functions/engine with the same `createEngine` shape, used to check that the onnx
 * adapter loads its engine module lazily and maps requests and results faithfully. It records what it
 * was asked, and answers with a 1×1 image of the requested format.
 */
import sharp from 'sharp';

export const created: { modelDir: string; intraOpThreads?: number }[] = [];
export const requests: Record<string, unknown>[] = [];

export function createEngine(options: { modelDir: string; intraOpThreads?: number }) {
  created.push(options);
  return {
    async stylize(
      request: Record<string, unknown> & {
        format?: string;
        onProgress?: (p: { stage: string; fraction: number }) => void;
      },
    ) {
      requests.push(request);
      request.onProgress?.({ stage: 'encode', fraction: 0.5 });
      if (request.strength === 0.25)
        throw Object.assign(new Error('Cannot decode the content image.'), { code: 'INVALID_IMAGE' });
      const format = (request.format ?? 'png') as 'png' | 'jpeg' | 'webp';
      const image = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
        .toFormat(format)
        .toBuffer();
      return { image, width: 1, height: 1, format };
    },
  };
}
