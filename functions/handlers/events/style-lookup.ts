/**
 * How the drop folder turns the `<style-id>` folder name into a style image.
 *
 * On AWS the style images a drop folder can use are objects under `styles/` in the uploads bucket,
 * one per id (`styles/<style-id>`), so an operator adds a style by uploading one file and the intake
 * function needs nothing but the bucket it already reads. The lookup is a small interface so that the
 * intake logic does not care where styles live.
 */

import { BLOB_PREFIXES, type BlobStore } from '../../core';

/** A style the drop folder can use. */
export interface DropStyle {
  styleId: string;
  /** Blob key of the style image. */
  key: string;
}

/** Resolves style ids for the drop folder. */
export interface StyleLookup {
  /** The style named `styleId`, or null when there is none. */
  find(styleId: string): Promise<DropStyle | null>;
  /** Up to `limit` known style ids, for messages that name the valid options. */
  known(limit: number): Promise<string[]>;
}

const STYLE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Styles stored as `styles/<style-id>` objects in a blob store. */
export class BlobStyleLookup implements StyleLookup {
  constructor(private readonly blobs: BlobStore) {}

  async find(styleId: string): Promise<DropStyle | null> {
    // The id becomes part of a key, so anything but a plain word is unknown rather than a path.
    if (!STYLE_ID.test(styleId)) return null;
    const key = `${BLOB_PREFIXES.styles}${styleId}`;
    return (await this.blobs.head(key)) === null ? null : { styleId, key };
  }

  async known(limit: number): Promise<string[]> {
    const page = await this.blobs.list({ prefix: BLOB_PREFIXES.styles, limit });
    return page.items.map((item) => item.key.slice(BLOB_PREFIXES.styles.length)).filter((id) => STYLE_ID.test(id));
  }
}
