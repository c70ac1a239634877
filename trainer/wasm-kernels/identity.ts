/**
 * Identity for the wasm backend without a copy.
 *
 * The engine clones every tensor it saves for the backward pass, and a clone runs the Identity kernel;
 * wasm's copies the whole buffer (about 2,000 calls and 50 ms of each `small` training iteration). TF.js
 * tensors are never written in place, so the output can share the input's buffer, as the cpu backend's
 * Identity and wasm's own Reshape already do: one more reference, freed with the last of them.
 */
import { Identity, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

/** The backend methods this kernel uses (BackendWasm has both). */
interface RefCounted {
  incRef(dataId: object): void;
}

/** Builds the kernel config for `backendName`; string tensors keep the shipped copying path. */
export function identityConfig(backendName: string, original: KernelConfig['kernelFunc']): KernelConfig {
  return {
    kernelName: Identity,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return original(args);
      (args.backend as unknown as RefCounted).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}
