/**
 * `ThreadedStylizeEngine`: the stylize engine port over an OnnxStylizeEngine running on a worker
 * thread. onnxruntime computes a graph on the thread that calls it, so in the server's own thread a
 * 512 px decode at render scale 2 held the event loop about five seconds, and every API request,
 * WebSocket frame and poll waited behind it. Here the server's thread only resolves the model folder,
 * passes bytes and relays progress, previews and cancellation.
 *
 * The thread starts on the first request and does not keep the process alive while idle. If it dies
 * (an uncaught error, running out of memory), the requests it held fail with UNAVAILABLE and the next
 * request starts a new one.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DomainError, ErrorCode } from '../../core';
import type { EncodedImage, StylizeControl, StylizeEngine, StylizeRequest } from '../../core/ports/stylize-engine';
import type { OnnxStylizeEngineOptions } from '../onnx-stylize-engine';
import { deserialiseError, type EngineThreadOptions, type FromEngineThread, type ToEngineThread } from './protocol';

export type ThreadedStylizeEngineOptions = Pick<
  OnnxStylizeEngineOptions,
  'resolveModelDir' | 'intraOpThreads' | 'executionProvider'
> & {
  /** The script the thread runs; tests point it elsewhere. @default boot.js beside this file */
  threadEntry?: string;
};

interface Pending {
  resolve(result: EncodedImage): void;
  reject(error: unknown): void;
  control: StylizeControl;
  /** The thread running it. */
  worker: Worker;
  /** Resolves once the request has its answer, whichever it is. */
  settled: Promise<unknown>;
}

export class ThreadedStylizeEngine implements StylizeEngine {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly options: ThreadedStylizeEngineOptions) {}

  async stylize(request: StylizeRequest, control: StylizeControl = {}): Promise<EncodedImage> {
    const { model, ...rest } = request;
    const modelDir = await this.options.resolveModelDir(model);
    control.signal?.throwIfAborted();
    const worker = this.workerThread();
    const id = this.nextId++;
    const onAbort = (): void => worker.postMessage({ type: 'cancel', id } satisfies ToEngineThread);
    let resolve!: (result: EncodedImage) => void;
    let reject!: (error: unknown) => void;
    const answer = new Promise<EncodedImage>((res, rej) => ((resolve = res), (reject = rej)));
    this.pending.set(id, { resolve, reject, control, worker, settled: answer.catch(() => undefined) });
    try {
      worker.ref();
      control.signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ type: 'stylize', id, modelDir, request: rest } satisfies ToEngineThread);
      return await answer;
    } finally {
      control.signal?.removeEventListener('abort', onAbort);
      this.pending.delete(id);
      if (![...this.pending.values()].some((p) => p.worker === worker)) worker.unref();
    }
  }

  /**
   * Cancels the requests still running, waits for them to stop (at the engine's next step: a graph
   * run is never cut short, since ending the thread inside one aborts the whole process) and ends the
   * thread. Those requests fail with CANCELLED.
   */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    // A request made from now on starts a thread of its own.
    this.worker = undefined;
    const running = [...this.pending.entries()].filter(([, p]) => p.worker === worker);
    for (const [id] of running) worker.postMessage({ type: 'cancel', id } satisfies ToEngineThread);
    await Promise.all(running.map(([, p]) => p.settled));
    await worker.terminate();
  }

  private workerThread(): Worker {
    if (this.worker !== undefined) return this.worker;
    const data: EngineThreadOptions = {
      ...(this.options.intraOpThreads !== undefined && { intraOpThreads: this.options.intraOpThreads }),
      ...(this.options.executionProvider !== undefined && { executionProvider: this.options.executionProvider }),
    };
    const worker = new Worker(this.options.threadEntry ?? path.join(__dirname, 'boot.js'), { workerData: data });
    worker.unref();
    worker.on('message', (message: FromEngineThread) => this.receive(message));
    const lost = (reason: string): void => {
      if (this.worker === worker) this.worker = undefined;
      const error = new DomainError(ErrorCode.UNAVAILABLE, `The stylize engine's thread stopped (${reason}).`);
      for (const p of this.pending.values()) if (p.worker === worker) p.reject(error);
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private receive(message: FromEngineThread): void {
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    if (message.type === 'progress') pending.control.onProgress?.(message.progress);
    else if (message.type === 'done') pending.resolve(message.result);
    else pending.reject(deserialiseError(message.error));
  }
}
