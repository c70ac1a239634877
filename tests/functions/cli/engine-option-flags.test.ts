import { UsageError } from '../../../functions/cli/args';
import { conditionSideFlag, renderScaleFlag, styleSizeFlag } from '../../../functions/cli/engine-option-flags';

describe('engine option flags', () => {
  it('read values within the API ranges and leave absent flags undefined', () => {
    expect(styleSizeFlag('style-size', '128')).toBe(128);
    expect(styleSizeFlag('style-size', undefined)).toBeUndefined();
    expect(renderScaleFlag('render-scale', '1.5')).toBe(1.5);
    expect(renderScaleFlag('render-scale', undefined)).toBeUndefined();
    expect(conditionSideFlag('condition-side-default', '32')).toBe(32);
    expect(conditionSideFlag('condition-side-default', undefined)).toBeUndefined();
  });

  it.each([
    [
      styleSizeFlag,
      'style-size-default',
      '20',
      '--style-size-default must be a whole number of pixels in 64..2048, got "20".',
    ],
    [styleSizeFlag, 'style-size', '128.5', '--style-size must be a whole number of pixels in 64..2048, got "128.5".'],
    [styleSizeFlag, 'style-size', ' ', '--style-size must be a whole number of pixels in 64..2048, got " ".'],
    [renderScaleFlag, 'render-scale', 'two', '--render-scale must be a number in 1..4, got "two".'],
    [renderScaleFlag, 'render-scale', '', '--render-scale must be a number in 1..4, got "".'],
    [renderScaleFlag, 'render-scale-default', '4.01', '--render-scale-default must be a number in 1..4, got "4.01".'],
    [
      conditionSideFlag,
      'condition-side-default',
      '8',
      '--condition-side-default must be a whole number of pixels in 16..2048, got "8".',
    ],
  ] as const)('%p --%s %j is one usage error naming the flag and range', (parse, flag, raw, message) => {
    expect(() => parse(flag, raw)).toThrow(new UsageError(message));
  });
});
