/**
 * Node's own `require`, evaluated in the main realm, for loading onnxruntime-node: its JavaScript checks
 * `data instanceof Float32Array` against the main realm's constructor, so code running in another realm
 * (jest runs each test file in its own VM context) must load it, and build its input arrays, from there.
 * Outside a sandbox this is the ordinary loader, and the module instance is the same as a plain import's.
 */
import { runInThisContext } from 'node:vm';

/** `vm.runInThisContext` runs in the main context even from a sandbox, so its `process` is the real one. */
export function mainRealmRequire(): NodeJS.Require {
  const mainProcess = runInThisContext('process') as NodeJS.Process;
  // Node before 20.16 lacks getBuiltinModule; there the ordinary loader is the best available.
  if (typeof mainProcess.getBuiltinModule !== 'function') return require;
  const nodeModule = mainProcess.getBuiltinModule('node:module') as typeof import('node:module');
  return nodeModule.createRequire(__filename);
}
