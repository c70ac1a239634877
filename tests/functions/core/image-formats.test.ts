import {
  DECODABLE_IMAGE_FORMATS,
  DECODABLE_IMAGE_TYPES,
  IMAGE_EXTENSIONS,
  isDecodableImageType,
} from '../../../functions/core';
import { datasetFileName } from '../../../functions/core/use-cases/training-dataset';
import { INPUT_FORMATS } from '../../../functions/engine';

describe('decodable image formats', () => {
  it('are the ones the engine accepts, under sharp names', () => {
    expect(DECODABLE_IMAGE_FORMATS).toEqual(['jpeg', 'png', 'webp']);
    expect(INPUT_FORMATS).toBe(DECODABLE_IMAGE_FORMATS);
  });

  it('each have a stored extension', () => {
    expect(Object.keys(IMAGE_EXTENSIONS).sort()).toEqual([...DECODABLE_IMAGE_TYPES].sort());
  });

  it('exclude GIF, which is recognised only to be refused', () => {
    expect(isDecodableImageType('image/gif')).toBe(false);
    expect(isDecodableImageType(null)).toBe(false);
    expect(isDecodableImageType('image/webp')).toBe(true);
    expect(datasetFileName('a/b', 'image/gif')).toBeNull();
    expect(datasetFileName('a/b', 'image/png')).toBe('a/b.png');
    expect(datasetFileName('a/b.JPEG', 'image/jpeg')).toBe('a/b.JPEG');
  });
});
