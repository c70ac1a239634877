/**
 * The model registry port: trained TSPR model packages, versioned per owner and name.
 *
 * A package (ONNX graphs, weights, manifest) lives under a blob-store prefix; the registry records
 * where, and a summary of the manifest for listings. Every registration places its package under
 * `models/<id>/<version>/` (`modelPackagePrefix`), whichever runtime trained it, and readers follow the
 * prefix a record names, so records made under an older layout keep working. One built-in model ships
 * with the platform and is visible to everyone, so a fresh installation can stylize before anyone
 * trains.
 */

import { assertBlobPrefix } from '../blob-key';
import { BLOB_PREFIXES } from '../blob-prefixes';
import { DomainError, ErrorCode } from '../errors';
import type { JsonObject } from '../json';
import type { Page, PageRequest } from './page';

/** Owner recorded on the built-in model. */
export const BUILTIN_OWNER = 'builtin';
/** Id of the built-in model. */
export const DEFAULT_MODEL_ID = 'tspr-default';
/** The one place a registered model's package goes: `models/<id>/<version>/`. */
export function modelPackagePrefix(id: string, version: number): string {
  return `${BLOB_PREFIXES.models}${id}/${version}/`;
}

/** What a caller registers; the registry adds the version, the package prefix and the time. */
export interface NewModel {
  /** From `ModelRegistry.newId`, chosen by the caller so that a retried registration names the same model. */
  id: string;
  name: string;
  owner: string;
  /** A few manifest fields for listings. */
  manifest: JsonObject;
}

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
  /** A fresh model id in this registry's format (time-ordered where listings sort by id). */
  newId(): string;
  /**
   * Registers `model` as the next version of its name for its owner. The package goes first:
   * `place(packagePrefix)` stores it under `modelPackagePrefix(id, version)`, and only then is the
   * record written, so a registered model never points at a missing package.
   *
   * Idempotent per id, for callers that are retried: when the owner already has a model with this id,
   * it is returned as it is and nothing is placed. A retry that fails between placing and recording
   * takes the next version, leaving a gap in the numbering and an unreferenced copy, never a duplicate.
   */
  register(model: NewModel, place: (packagePrefix: string) => Promise<void>): Promise<ModelInfo>;
  /** A model the owner may use (theirs or built-in), or null. */
  get(id: string, owner: string): Promise<ModelInfo | null>;
  /** The built-in model first, then the owner's models newest first. */
  list(owner: string, request?: PageRequest): Promise<Page<ModelInfo>>;
  /** The built-in model. */
  getDefault(): Promise<ModelInfo>;
}

/** How the bundled model presents itself; every adapter builds its record with `builtInModelInfo`. */
export interface BuiltInModelOptions {
  /** Blob-store prefix of the bundled model package. @default "models/tspr-default/1/" (`modelPackagePrefix`) */
  defaultPackagePrefix?: string;
  /** Manifest summary of the bundled model. @default {} */
  defaultManifest?: JsonObject;
  /** Display name of the bundled model. @default "TSPR default" */
  defaultName?: string;
  /** When the bundled model was made (ISO-8601). @default the Unix epoch */
  defaultCreatedAt?: string;
}

/** The built-in model's record, the same in every registry adapter. */
export function builtInModelInfo(options: BuiltInModelOptions = {}): ModelInfo {
  const prefix = options.defaultPackagePrefix ?? modelPackagePrefix(DEFAULT_MODEL_ID, 1);
  assertBlobPrefix(prefix);
  return {
    id: DEFAULT_MODEL_ID,
    name: options.defaultName ?? 'TSPR default',
    version: 1,
    owner: BUILTIN_OWNER,
    packagePrefix: prefix,
    manifest: options.defaultManifest ?? {},
    createdAt: options.defaultCreatedAt ?? new Date(0).toISOString(),
  };
}

/**
 * The bundled model's presentation, read from its package manifest: the manifest's name, its creation
 * time, and a summary for listings whose `packageVersion` is the manifest's own version ("0.3.0"; the
 * registry's `version` counts registrations of a name and is 1 for the built-in model). Every runtime
 * that lists the built-in model (the local server, the GraphQL Lambda) builds it here, so they agree.
 */
export function builtInModelOptions(manifest: Readonly<Record<string, unknown>>): BuiltInModelOptions {
  const summary: JsonObject = {};
  for (const key of ['name', 'version', 'preset', 'training', 'eval'] as const) {
    if (manifest[key] !== undefined) summary[key] = manifest[key] as JsonObject[string];
  }
  if (typeof manifest.version === 'string') summary.packageVersion = manifest.version;
  const created = typeof manifest.createdAt === 'string' ? Date.parse(manifest.createdAt) : NaN;
  return {
    ...(typeof manifest.name === 'string' && manifest.name.trim() !== '' ? { defaultName: manifest.name } : {}),
    ...(Number.isFinite(created) ? { defaultCreatedAt: new Date(created).toISOString() } : {}),
    defaultManifest: summary,
  };
}

/** Model ids a registry accepts: letters, digits and "-" (a UUID fits), usable as one key segment. */
const MODEL_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Rejects a registration every adapter must refuse: a bad or reserved id, an empty name, a reserved owner. */
export function assertRegistrable(model: Pick<NewModel, 'id' | 'name' | 'owner'>): void {
  if (!MODEL_ID.test(model.id) || model.id === DEFAULT_MODEL_ID) {
    throw new DomainError(
      ErrorCode.BAD_REQUEST,
      `A model id must be 1-64 letters, digits or "-" and not "${DEFAULT_MODEL_ID}", got "${model.id}".`,
    );
  }
  if (model.name.trim().length === 0) throw new DomainError(ErrorCode.BAD_REQUEST, 'A model needs a non-empty name.');
  if (model.owner.length === 0 || model.owner === BUILTIN_OWNER) {
    throw new DomainError(ErrorCode.BAD_REQUEST, `A model owner must be non-empty and not "${BUILTIN_OWNER}".`);
  }
}
