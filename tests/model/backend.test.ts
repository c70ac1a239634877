/**
 * Backend selection: explicit requests (flag over environment variable), clear errors for unknown names
 * and for native backends that are not installed (they cannot install on this machine), the automatic
 * choice, and that importing the module chooses nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as backend from '../../trainer/backend';

const { initBackend, parseBackendRequest } = backend;

afterEach(() => {
  delete process.env.PEERSTYLE_BACKEND;
});

test('importing the module loads no backend and registers nothing', () => {
  expect(tf.engine().backendName ?? null).toBeNull();
  expect(tf.findBackendFactory('wasm')).toBeNull();
  expect(tf.findBackendFactory('cpu')).toBeNull();
  expect(tf.getGradient('Conv2D')).toBeUndefined();
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

describe('initBackend', () => {
  test('an unknown request is rejected before anything loads', async () => {
    await expect(initBackend('webgl')).rejects.toThrow(backend.BackendError);
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
      expect(tf.getBackend()).toBe('wasm');
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    });
  });
});
