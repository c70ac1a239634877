/**
 * The image formats the platform decodes, named once: the engine, the upload and drop-folder checks and
 * the dataset writer all read this list, so accepting a new format is a change in one place.
 */

/** Content types of the formats the engine decodes. GIF is recognised elsewhere only to be refused by name. */
export const DECODABLE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type DecodableImageType = (typeof DECODABLE_IMAGE_TYPES)[number];

/** The same formats under sharp's names ("jpeg", "png", "webp"). */
export const DECODABLE_IMAGE_FORMATS: readonly string[] = DECODABLE_IMAGE_TYPES.map((type) =>
  type.slice('image/'.length),
);

/** The file extension each decodable format is stored under. */
export const IMAGE_EXTENSIONS: Readonly<Record<DecodableImageType, string>> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
};

/** True when `type` is one of the decodable content types. */
export function isDecodableImageType(type: string | null): type is DecodableImageType {
  return type !== null && (DECODABLE_IMAGE_TYPES as readonly string[]).includes(type);
}
