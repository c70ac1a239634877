// An engine thread that dies on every request (as an uncaught error or out-of-memory would end it),
// after one progress report, for threaded-stylize-engine.test.ts.
const { setImmediate } = require('node:timers');
const { parentPort } = require('node:worker_threads');

parentPort.on('message', (message) => {
  if (message.type !== 'stylize') return;
  parentPort.postMessage({ type: 'progress', id: message.id, progress: { stage: 'read', progress: 0 } });
  setImmediate(() => process.exit(7));
});
