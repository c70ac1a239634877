/**
 * A test engine for the stylize port: it decodes the content image with sharp and inverts its colours,
 * in a fixed number of steps with a pause between them, checking its abort signal at each step. It is
 * real image work (the output is a decodable PNG whose pixels can be checked) without onnxruntime, and
 * slow enough on demand to be cancelled or killed mid-run.
 */
import sharp from 'sharp';
import { DomainError, ErrorCode } from '../../functions/core';
import type {
  EncodedImage,
  StylizeControl,
  StylizeEngine,
  StylizeRequest,
} from '../../functions/core/ports/stylize-engine';

export interface InvertTestEngineOptions {
  /** Progress steps reported. @default 4 */
  steps?: number;
  /** Pause per step. @default 0 */
  stepMs?: number;
  /** Throw this instead of producing an image. */
  fail?: DomainError;
}

export class InvertTestEngine implements StylizeEngine {
  /** Requests seen, for assertions. */
  readonly calls: StylizeRequest[] = [];
  /** Runs that ended because their signal was aborted. */
  aborted = 0;

  constructor(private readonly options: InvertTestEngineOptions = {}) {}

  async stylize(request: StylizeRequest, options: StylizeControl = {}): Promise<EncodedImage> {
    this.calls.push(request);
    const steps = this.options.steps ?? 4;
    for (let i = 1; i <= steps; i += 1) {
      if (options.signal?.aborted) {
        this.aborted += 1;
        throw new DomainError(ErrorCode.CANCELLED, 'Stylization aborted.');
      }
      if (this.options.stepMs) await new Promise((r) => setTimeout(r, this.options.stepMs));
      options.onProgress?.({ progress: i / (steps + 1), stage: `step ${i}/${steps}` });
    }
    if (this.options.fail) throw this.options.fail;
    const { data, info } = await sharp(Buffer.from(request.content)).negate({ alpha: false }).png().toBuffer({
      resolveWithObject: true,
    });
    return { image: data, width: info.width, height: info.height, format: 'png' };
  }
}
