/**
 * The style store port: style images a user saved under a name, for reuse in later stylize jobs.
 *
 * The image itself lives in the blob store; this record names it and says whose it is.
 */

import type { Page, PageRequest } from './page';

/** A saved style image. */
export interface Style {
  id: string;
  name: string;
  owner: string;
  /** Where the image is in the blob store. */
  blobKey: string;
  /** ISO-8601. */
  createdAt: string;
}

/** Saved style images, private to their owner. */
export interface StyleStore {
  create(style: { name: string; owner: string; blobKey: string }): Promise<Style>;
  /** Another owner's style reads as absent. */
  get(id: string, owner: string): Promise<Style | null>;
  /** The owner's styles, newest first. */
  list(owner: string, request?: PageRequest): Promise<Page<Style>>;
  /** NOT_FOUND when the owner has no style with this id. */
  delete(id: string, owner: string): Promise<void>;
}
