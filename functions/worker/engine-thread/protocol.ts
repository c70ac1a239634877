/**
 * Messages between the server's thread and the thread that runs the onnxruntime engine. A graph run
 * computes on the thread that starts it (several seconds for a large decode), so the engine gets a thread
 * of its own and the server's event loop keeps answering requests meanwhile.
 */
import { DomainError, type ErrorCode } from '../../core';
import type { EncodedImage, StylizeProgress, StylizeRequest } from '../../core/ports/stylize-engine';
import type { OnnxStylizeEngineOptions } from '../onnx-stylize-engine';

/** Options the engine thread is started with (structured-cloneable). */
export type EngineThreadOptions = Pick<OnnxStylizeEngineOptions, 'intraOpThreads' | 'executionProvider'>;

export type ToEngineThread =
  | { type: 'stylize'; id: number; modelDir: string; request: Omit<StylizeRequest, 'model'> }
  | { type: 'cancel'; id: number };

export type FromEngineThread =
  | { type: 'progress'; id: number; progress: StylizeProgress }
  | { type: 'done'; id: number; result: EncodedImage }
  | { type: 'failed'; id: number; error: SerialisedError };

/** An error as it crosses the threads: a DomainError keeps its code and details, anything else its message. */
export interface SerialisedError {
  message: string;
  code?: ErrorCode;
  details?: DomainError['details'];
}

export function serialiseError(error: unknown): SerialisedError {
  if (error instanceof DomainError) {
    return { message: error.message, code: error.code, ...(error.details !== undefined && { details: error.details }) };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

export function deserialiseError(error: SerialisedError): Error {
  return error.code === undefined
    ? new Error(error.message)
    : new DomainError(error.code, error.message, error.details);
}
