/**
 * The model registry port: trained TSPR model packages, versioned per owner and name.
 *
 * A package (ONNX graph, manifest) lives under a blob-store prefix; the registry records where, and a
 * summary of the manifest for listings. One built-in model ships with the platform and is visible to
 * everyone, so a fresh installation can stylize before anyone trains.
 */

import type { JsonObject } from '../json';
import type { Page, PageRequest } from './page';

/** Owner recorded on the built-in model. */
export const BUILTIN_OWNER = 'builtin';
/** Id of the built-in model. */
export const DEFAULT_MODEL_ID = 'tspr-default';

/** A registered model package. */
export interface ModelInfo {
  id: string;
  name: string;
  /** 1 for an owner's first model of this name, then 2, 3, … */
  version: number;
  owner: string;
  /** Blob-store prefix holding the package, ending in "/". */
  packagePrefix: string;
  /** A few manifest fields for listings (preset, image size, training steps). */
  manifest: JsonObject;
  /** ISO-8601. */
  createdAt: string;
}

/** Trained models, private to their owner, plus the built-in one. */
export interface ModelRegistry {
  /** Registers a new version of `name` for `owner`. */
  register(model: { name: string; owner: string; packagePrefix: string; manifest: JsonObject }): Promise<ModelInfo>;
  /** A model the owner may use (theirs or built-in), or null. */
  get(id: string, owner: string): Promise<ModelInfo | null>;
  /** The built-in model first, then the owner's models newest first. */
  list(owner: string, request?: PageRequest): Promise<Page<ModelInfo>>;
  /** The built-in model. */
  getDefault(): Promise<ModelInfo>;
}
