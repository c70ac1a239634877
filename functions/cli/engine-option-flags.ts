/**
 * Command-line flags that carry one of the engine's options (the styles' side, the render scale, the
 * side a modulated model's style condition is read at),
 * read and checked against the ranges the API holds them to, so every command that takes one gives the
 * same message for the same mistake.
 */
import { isRenderScale, RENDER_SCALE_RANGE, SIZE_RANGE } from '../core/stylize-input';
import { CONDITION_SIDE_RANGE, isConditionSide, isStyleSize } from '../../trainer/export/package-format';
import { UsageError } from './args';

/** `--<flag>` as a style side in whole pixels within the API's range; undefined when not given. */
export function styleSizeFlag(flag: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !isStyleSize(value))
    throw new UsageError(
      `--${flag} must be a whole number of pixels in ${SIZE_RANGE[0]}..${SIZE_RANGE[1]}, got "${String(raw)}".`,
    );
  return value;
}

/** `--<flag>` as a render scale within the API's range; undefined when not given. */
export function renderScaleFlag(flag: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !isRenderScale(value))
    throw new UsageError(
      `--${flag} must be a number in ${RENDER_SCALE_RANGE[0]}..${RENDER_SCALE_RANGE[1]}, got "${String(raw)}".`,
    );
  return value;
}

/** `--<flag>` as a side the style condition can be read at, in whole pixels; undefined when not given. */
export function conditionSideFlag(flag: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !isConditionSide(value))
    throw new UsageError(
      `--${flag} must be a whole number of pixels in ${CONDITION_SIDE_RANGE[0]}..${CONDITION_SIDE_RANGE[1]}, got "${String(raw)}".`,
    );
  return value;
}
