/**
 * Backend selection: explicit requests (flag over environment variable), clear errors for unknown names
 * and for native backends that are not installed (they cannot install on this machine), the automatic
 * choice, and that importing the module chooses nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as backend from '../../trainer/backend';
import { MAX_WASM_THREADS, defaultWasmThreads, parseThreads } from '../../trainer/wasm-threads';

const { initBackend, parseBackendRequest, parseNativeConv } = backend;

afterEach(() => {
  delete process.env.PEERSTYLE_BACKEND;
});

test('importing the module loads no backend and registers nothing', () => {
  expect(tf.engine().backendName ?? null).toBeNull();
  expect(tf.findBackendFactory('wasm')).toBeNull();
  expect(tf.findBackendFactory('cpu')).toBeNull();
  expect(tf.getGradient('Conv2D')).toBeUndefined();
});

describe('parseNativeConv (PEERSTYLE_NATIVE_CONV)', () => {
  test('on unless set to off', () => {
    expect(parseNativeConv(undefined)).toBe(true);
    expect(parseNativeConv('')).toBe(true);
    expect(parseNativeConv('on')).toBe(true);
    expect(parseNativeConv(' OFF ')).toBe(false);
    expect(parseNativeConv('0')).toBe(false);
  });
  test('anything else is one clear error', () => {
    expect(() => parseNativeConv('fast')).toThrow('PEERSTYLE_NATIVE_CONV is "fast"; expected on or off.');
  });
});

describe('parseBackendRequest', () => {
  test('the flag overrides the environment variable', () => {
    expect(parseBackendRequest('cpu', 'wasm')).toBe('cpu');
  });
  test('the environment variable applies without a flag', () => {
    expect(parseBackendRequest(undefined, 'WASM')).toBe('wasm');
  });
  test('neither means an automatic choice', () => {
    expect(parseBackendRequest(undefined, undefined)).toBeUndefined();
    expect(parseBackendRequest(undefined, ' ')).toBeUndefined();
  });
  test('an unknown name is an error listing the valid names and its source', () => {
    expect(() => parseBackendRequest('webgl', undefined)).toThrow(
      'Unknown backend "webgl" (from --backend). Expected one of: gpu, tensorflow, node, wasm, cpu.',
    );
    expect(() => parseBackendRequest(undefined, 'tpu')).toThrow(/from PEERSTYLE_BACKEND/);
  });
});

describe('parseThreads', () => {
  test('the flag overrides the environment variable; neither means the default', () => {
    expect(parseThreads('1', '4')).toBe(1);
    expect(parseThreads(undefined, '4')).toBe(4);
    expect(parseThreads(undefined, undefined)).toBeUndefined();
    expect(defaultWasmThreads()).toBeGreaterThanOrEqual(1);
    expect(defaultWasmThreads()).toBeLessThanOrEqual(MAX_WASM_THREADS);
  });
  test('anything but an integer from 1 to 8 is an error naming its source', () => {
    expect(() => parseThreads('0', undefined)).toThrow('--threads must be an integer from 1 to 8, got "0".');
    expect(() => parseThreads('9', undefined)).toThrow(/--threads/);
    expect(() => parseThreads('1.5', undefined)).toThrow(/--threads/);
    expect(() => parseThreads(undefined, 'many')).toThrow(/PEERSTYLE_THREADS .* got "many"/);
  });
});

describe('initBackend', () => {
  test('an unknown request is rejected before anything loads', async () => {
    await expect(initBackend('webgl')).rejects.toThrow(backend.BackendError);
    expect(tf.engine().backendName ?? null).toBeNull();
  });

  test('reads the environment it is handed instead of the process’s', async () => {
    process.env.PEERSTYLE_BACKEND = 'cpu';
    const env = { backend: 'tpu', threads: undefined, optMl: undefined, nativeConv: undefined };
    await expect(initBackend(undefined, { env })).rejects.toThrow(/Unknown backend "tpu" \(from PEERSTYLE_BACKEND\)/);
    expect(tf.engine().backendName ?? null).toBeNull();
  });

  test('a requested native backend that is not installed is an error, not a fallback', async () => {
    await expect(initBackend('gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu.*--backend=wasm/s);
    process.env.PEERSTYLE_BACKEND = 'node';
    await expect(initBackend()).rejects.toThrow(/native TensorFlow backend is not available.*@tensorflow\/tfjs-node:/s);
    expect(tf.engine().backendName ?? null).toBeNull();
  });

  test('the environment variable selects the backend, once; switching later is refused', async () => {
    process.env.PEERSTYLE_BACKEND = 'cpu';
    const choice = await initBackend();
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.getGradient('Conv2D')).toBeDefined();
    await expect(initBackend()).resolves.toEqual(choice);
    await expect(initBackend('wasm')).rejects.toThrow(/already initialised \(cpu\); cannot switch to "wasm"/);
  });

  test('without a request, wasm wins here (the native packages are absent) with its training kernels', async () => {
    await jest.isolateModulesAsync(async () => {
      const fresh = (await import('../../trainer/backend')) as typeof backend;
      const choice = await fresh.initBackend();
      expect(choice.name).toBe('wasm');
      expect(choice.detail).toMatch(/Conv2DBackpropFilter/);
      // Every logical core (at most 8) by default, through the threaded build.
      expect(choice.threads).toBe(defaultWasmThreads());
      expect(choice.detail).toContain(`${choice.threads} thread`);
      expect(tf.getBackend()).toBe('wasm');
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    });
  });
});
