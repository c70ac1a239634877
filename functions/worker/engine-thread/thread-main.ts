/**
 * The engine thread's side: one OnnxStylizeEngine (so loaded models stay loaded between jobs), one
 * AbortController per running request. The model folder arrives resolved: the model cache lives on
 * the server's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxStylizeEngine } from '../onnx-stylize-engine';
import { serialiseError, type EngineThreadOptions, type FromEngineThread, type ToEngineThread } from './protocol';

const port = parentPort;
if (port === null) throw new Error('thread-main.ts runs inside a worker thread (see threaded-stylize-engine.ts).');

const options = workerData as EngineThreadOptions;
const engine = new OnnxStylizeEngine({
  ...options,
  resolveModelDir: () => Promise.reject(new Error('The engine thread is given resolved model folders.')),
});
const running = new Map<number, AbortController>();
const send = (message: FromEngineThread): void => port.postMessage(message);

port.on('message', (message: ToEngineThread) => {
  if (message.type === 'cancel') {
    running.get(message.id)?.abort();
    return;
  }
  const { id, modelDir, request } = message;
  const controller = new AbortController();
  running.set(id, controller);
  engine
    .stylizeIn(modelDir, request, {
      signal: controller.signal,
      onProgress: (progress) => send({ type: 'progress', id, progress }),
    })
    .then(
      (result) => send({ type: 'done', id, result }),
      (error: unknown) => send({ type: 'failed', id, error: serialiseError(error) }),
    )
    .finally(() => running.delete(id));
});
