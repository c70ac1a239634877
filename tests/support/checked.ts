/**
 * Checked access for tests: an element or value the test relies on being there, or a failure that
 * names what was missing, instead of a TypeError on `undefined` a few lines later. The type checker
 * treats every index into an array or record as possibly missing; these helpers make the test say so.
 */

/** The element at `index` (negative counts from the end, as `Array.prototype.at` does); throws if there is none. */
export function at<T>(items: ArrayLike<T>, index: number): T {
  const position = index < 0 ? items.length + index : index;
  if (!Number.isInteger(position) || position < 0 || position >= items.length) {
    throw new Error(`Expected an element at index ${index}, but there are ${items.length}.`);
  }
  return items[position] as T;
}

/** The one element of `items`; throws if there are none or several. */
export function only<T>(items: ArrayLike<T>): T {
  if (items.length !== 1) throw new Error(`Expected exactly one element, but there are ${items.length}.`);
  return items[0] as T;
}

/** `value`, which must be neither undefined nor null; `what` names it in the failure. */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`Expected ${what} to be defined, but it is ${value}.`);
  return value;
}
