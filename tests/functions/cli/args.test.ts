/** The subcommands' help: every description starts in one column, however long a flag's name. */
import { usage } from '../../../functions/cli/args';
import { at } from '../../support/checked';

describe('usage', () => {
  it('keeps a space between the longest flag and its description, and aligns the rest with it', () => {
    const text = usage('export', 'export a model', {
      out: { type: 'string', description: 'folder to write to' },
      'structure-default': { type: 'string', description: 'keep or transfer' },
      verify: { type: 'boolean', description: 'compare stage by stage' },
    });
    const lines = text.split('\n').filter((l) => l.startsWith('  --'));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/--structure-default <value> {2}keep or transfer$/);
    const starts = lines.map((l, i) => l.indexOf(at(['folder', 'keep', 'compare'], i)));
    expect(new Set(starts).size).toBe(1);
  });
});
