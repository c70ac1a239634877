/**
 * A STYLIZE job's stored input, as the worker reads it back: the options the API stores in GraphQL's
 * upper case reach the engine in its lower case, and a value neither knows is refused with the field.
 */
import { parseStylizeInput } from '../../functions/worker/stylize-executor';

const base = { contentKey: 'uploads/alice/photo', styles: [{ key: 'uploads/alice/style', weight: 1 }] };

test('structure and format arrive in the engine’s lower case; absent options stay absent', () => {
  expect(parseStylizeInput({ ...base, structure: 'KEEP', format: 'PNG' })).toMatchObject({
    structure: 'keep',
    format: 'png',
  });
  expect(parseStylizeInput({ ...base, structure: 'TRANSFER' }).structure).toBe('transfer');
  expect(parseStylizeInput(base)).not.toHaveProperty('structure');
});

test('an unknown structure is a BAD_REQUEST naming the valid values', () => {
  expect(() => parseStylizeInput({ ...base, structure: 'HALF' })).toThrow(/structure.*keep, transfer/);
});
