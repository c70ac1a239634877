/**
 * Command-line flags that carry one of the engine's options (the styles' side, the render scale, the
 * side a modulated model's style condition is read at),
 * read and checked against the ranges the API holds them to, so every command that takes one gives the
 * same message for the same mistake.
 */
import { isRenderScale, RENDER_SCALE_RANGE, SIZE_RANGE } from '../core/stylize-input';
import { CONDITION_SIDE_RANGE, isConditionSide, isStyleSize } from '../../trainer/export/package-format';
import { UsageError } from './args';

/**
 * `--<flag>` as a number that `accepts` takes, named `what` in `range` in the message when it does not;
 * undefined when the flag is not given.
 */
function rangedFlag(
  flag: string,
  raw: unknown,
  accepts: (value: unknown) => boolean,
  what: string,
  range: readonly [number, number],
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !accepts(value))
    throw new UsageError(`--${flag} must be ${what} in ${range[0]}..${range[1]}, got "${String(raw)}".`);
  return value;
}

/** `--<flag>` as a style side in whole pixels within the API's range; undefined when not given. */
export function styleSizeFlag(flag: string, raw: unknown): number | undefined {
  return rangedFlag(flag, raw, isStyleSize, 'a whole number of pixels', SIZE_RANGE);
}

/** `--<flag>` as a render scale within the API's range; undefined when not given. */
export function renderScaleFlag(flag: string, raw: unknown): number | undefined {
  return rangedFlag(flag, raw, isRenderScale, 'a number', RENDER_SCALE_RANGE);
}

/** `--<flag>` as a side the style condition can be read at, in whole pixels; undefined when not given. */
export function conditionSideFlag(flag: string, raw: unknown): number | undefined {
  return rangedFlag(flag, raw, isConditionSide, 'a whole number of pixels', CONDITION_SIDE_RANGE);
}
