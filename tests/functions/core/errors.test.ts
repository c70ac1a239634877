import { DomainError, ErrorCode, badField, badRequest, isRecord } from '../../../functions/core';

describe('badRequest', () => {
  it('makes a BAD_REQUEST DomainError without details when no field is named', () => {
    const error = badRequest('The event has no TrainingJobName.');
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(error.message).toBe('The event has no TrainingJobName.');
    expect(error.details).toBeUndefined();
  });

  it('names the field in the details when given', () => {
    expect(badRequest('A training job needs a "preset" string.', 'input').details).toEqual({ field: 'input' });
  });
});

describe('badField', () => {
  it('prefixes the message with the field and names it in the details', () => {
    const error = badField('steps', 'must be an integer in 1..10, got 0.');
    expect(error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(error.message).toBe('steps: must be an integer in 1..10, got 0.');
    expect(error.details).toEqual({ field: 'steps' });
  });
});

describe('isRecord', () => {
  it.each([[{}], [{ a: 1 }], [Object.create(null)]])('accepts the object %p', (value) => {
    expect(isRecord(value)).toBe(true);
  });

  it.each([[null], [undefined], [[]], [[1]], ['x'], [3], [true]])('refuses %p', (value) => {
    expect(isRecord(value)).toBe(false);
  });
});
