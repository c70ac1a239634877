/**
 * The stylize job's input, parsed by the one parser that both submission and the worker use: options
 * come out canonical (enums lower case, defaults applied), a stored record reads back as what was
 * submitted, a record written in GraphQL's upper case before the canonical form still reads, and a
 * value out of range is refused naming the field and the valid values.
 */
import {
  DomainError,
  parseStylizeJobInput,
  parseStylizeOptions,
  STRUCTURE_MODES,
  STYLIZE_FORMATS,
  type JsonValue,
} from '../../../functions/core';
import { OUTPUT_FORMATS, STRUCTURE_MODES as ENGINE_STRUCTURE_MODES } from '../../../functions/engine';
import { STRUCTURE_MODES as PACKAGE_STRUCTURE_MODES } from '../../../trainer/export/package-format';

const base = { contentKey: 'uploads/alice/photo', styles: [{ key: 'uploads/alice/style', weight: 1 }] };

/** The BAD_REQUEST message `parse` throws, or a note that it threw none. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (error instanceof DomainError && error.code === 'BAD_REQUEST') return error.message;
    throw error;
  }
  return 'no error';
}

describe('parseStylizeOptions', () => {
  it('applies the defaults and leaves model- and image-dependent options absent', () => {
    expect(parseStylizeOptions(undefined)).toEqual({ strength: 1, preserveColor: false, format: 'jpeg' });
    expect(parseStylizeOptions({ strength: null, structure: null, size: null, format: null })).toEqual({
      strength: 1,
      preserveColor: false,
      format: 'jpeg',
    });
  });

  it('keeps a quality in 1..100 and leaves it absent (the engine’s default) when not asked for', () => {
    expect(parseStylizeOptions({ quality: 1 }).quality).toBe(1);
    expect(parseStylizeOptions({ quality: 100 }).quality).toBe(100);
    expect(parseStylizeOptions({ quality: null })).not.toHaveProperty('quality');
  });

  it('lower-cases GraphQL’s enum values', () => {
    expect(parseStylizeOptions({ structure: 'KEEP', format: 'WEBP' })).toMatchObject({
      structure: 'keep',
      format: 'webp',
    });
    expect(parseStylizeOptions({ structure: 'transfer', format: 'png' })).toMatchObject({
      structure: 'transfer',
      format: 'png',
    });
  });

  it('refuses a value out of range, naming the field and what is valid', () => {
    expect(refusal(() => parseStylizeOptions({ strength: 1.5 }))).toBe('options.strength: must be in 0..1, got 1.5.');
    expect(refusal(() => parseStylizeOptions({ size: 10 }))).toBe(
      'options.size: must be an integer in 64..2048, got 10.',
    );
    expect(refusal(() => parseStylizeOptions({ styleSize: 100.5 }))).toMatch(/^options.styleSize: must be an integer/);
    expect(refusal(() => parseStylizeOptions({ format: 'gif' }))).toBe(
      'Unknown options.format "gif". Expected one of: png, jpeg, webp.',
    );
    expect(refusal(() => parseStylizeOptions({ quality: 0 }))).toBe(
      'options.quality: must be an integer in 1..100, got 0.',
    );
    expect(refusal(() => parseStylizeOptions({ quality: 101 }))).toMatch(/^options.quality: .* got 101\.$/);
    expect(refusal(() => parseStylizeOptions({ quality: 80.5 }))).toMatch(/^options.quality: .* got 80.5\.$/);
    expect(refusal(() => parseStylizeOptions({ preview: 'yes' }))).toBe(
      'options.preview: must be true or false, got "yes".',
    );
  });
});

describe('parseStylizeJobInput', () => {
  it('reads back what submission stored, unchanged', () => {
    const stored = {
      ...parseStylizeOptions({
        strength: 0.5,
        structure: 'KEEP',
        size: 256,
        format: 'WEBP',
        quality: 60,
        preview: true,
      }),
      contentKey: 'job-inputs/alice/photo',
      styles: [{ key: 'styles/alice/s1', weight: 0.5, styleId: 's1' }],
      modelId: 'tspr-default',
    };
    expect(parseStylizeJobInput(JSON.parse(JSON.stringify(stored)) as JsonValue)).toEqual(stored);
  });

  it('reads a record stored in GraphQL’s upper case, and a drop-folder record without a model', () => {
    expect(parseStylizeJobInput({ ...base, structure: 'TRANSFER', format: 'PNG', source: 'drop/x.jpg' })).toEqual({
      ...base,
      styles: [{ key: 'uploads/alice/style', weight: 1, styleId: null }],
      strength: 1,
      preserveColor: false,
      structure: 'transfer',
      format: 'png',
      source: 'drop/x.jpg',
    });
    expect(parseStylizeJobInput(base)).not.toHaveProperty('structure');
  });

  it('refuses a record that does not hold, naming the field', () => {
    expect(refusal(() => parseStylizeJobInput({ ...base, structure: 'HALF' }))).toBe(
      'Unknown input.structure "HALF". Expected one of: keep, transfer.',
    );
    expect(refusal(() => parseStylizeJobInput({ ...base, styles: [] }))).toMatch(/at least one style/);
    expect(refusal(() => parseStylizeJobInput({ ...base, styles: [{ key: 'a', weight: -1 }] }))).toMatch(/weight -1/);
    expect(refusal(() => parseStylizeJobInput({ ...base, contentKey: '../etc/passwd' }))).toMatch(/Invalid blob key/);
    expect(refusal(() => parseStylizeJobInput([]))).toMatch(/must be an object/);
  });
});

test('the engine and the model package format take their option values from the core', () => {
  expect(OUTPUT_FORMATS).toBe(STYLIZE_FORMATS);
  expect(ENGINE_STRUCTURE_MODES).toBe(STRUCTURE_MODES);
  expect(PACKAGE_STRUCTURE_MODES).toBe(STRUCTURE_MODES);
});
