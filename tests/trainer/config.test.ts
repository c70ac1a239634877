import {
  applyOverrides,
  ConfigError,
  latentChannels,
  presetConfig,
  PRESETS,
  validateConfig,
  withLegacyTrainDefaults,
  type TrainConfig,
} from '../../trainer/config';

describe('presets', () => {
  it('every preset is valid', () => {
    for (const [name, cfg] of Object.entries(PRESETS)) expect([name, validateConfig(cfg)]).toEqual([name, []]);
  });

  it('paper has the official sizes', () => {
    const p = presetConfig('paper');
    expect(latentChannels(p)).toEqual({ content: 256, globalStyle: 256, localStyle: 256, total: 768 });
    expect([p.encoderBlocks, p.decoderBlocks, p.cropSize, p.knn, p.lambdaIdt, p.learningRate]).toEqual([
      6, 6, 256, 5, 25, 4e-4,
    ]);
  });

  it('an unknown preset names the valid ones', () => {
    expect(() => presetConfig('larg')).toThrow('Unknown preset "larg". Expected one of: paper, small, tiny.');
  });

  it('returns a copy, so callers cannot change the preset table', () => {
    const a = presetConfig('tiny');
    a.ngf = 99;
    expect(presetConfig('tiny').ngf).toBe(PRESETS.tiny.ngf);
  });
});

describe('overrides', () => {
  const base = presetConfig('small');

  it('parses numbers and booleans from strings', () => {
    const cfg = applyOverrides(base, { ngf: '8', styleTransfer: 'false', learningRate: '1e-4' });
    expect([cfg.ngf, cfg.styleTransfer, cfg.learningRate]).toEqual([8, false, 1e-4]);
  });

  it('rejects an unknown key and lists the valid keys', () => {
    expect(() => applyOverrides(base, { ngff: '8' })).toThrow(/Unknown key "ngff"\. Valid keys: .*ngf.*cropSize/);
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      applyOverrides(base, { ngf: '0', cropSize: '130', contentTransfer: 'maybe', beta1: 'x' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('ngf must be between 1 and 256, got 0.');
    expect(message).toContain('cropSize must be a multiple of 4, got 130.');
    expect(message).toContain('contentTransfer must be true or false, got "maybe".');
    expect(message).toContain('beta1 must be a number, got "x".');
  });

  it('styleLoadSize follows loadSize unless set (0), and obeys the same floor when set', () => {
    expect(base.styleLoadSize).toBe(0);
    expect(applyOverrides(base, { styleLoadSize: '286' }).styleLoadSize).toBe(286);
    expect(() => applyOverrides(base, { styleLoadSize: '130' })).toThrow(
      'styleLoadSize must be at least cropSize/0.9 (143), got 130.',
    );
    // Larger crops with a matching loadSize need no styleLoadSize of their own.
    expect(applyOverrides(base, { cropSize: '256', loadSize: '286' }).styleLoadSize).toBe(0);
    const { styleLoadSize: _, ...older } = { ...base, loadSize: 150 };
    expect(withLegacyTrainDefaults(older as TrainConfig).styleLoadSize).toBe(0);
  });

  it('textureScales: 1 unless set, refused where the coarsest level would leave the net under 2×2', () => {
    expect(base.textureScales).toBe(1);
    expect(applyOverrides(base, { textureScales: '3' }).textureScales).toBe(3);
    expect(() => applyOverrides(base, { textureScales: '5' })).toThrow('textureScales must be between 1 and 4, got 5.');
    expect(() => applyOverrides(presetConfig('tiny'), { textureScales: '4' })).toThrow(
      'textureScales 4 is too many for 32 px crops.',
    );
    const { textureScales: _, ...older } = base;
    expect(withLegacyTrainDefaults(older as TrainConfig).textureScales).toBe(1);
  });

  it('rejects fractional integers and decay longer than the run', () => {
    expect(() => applyOverrides(base, { knn: '2.5' })).toThrow('knn must be an integer, got 2.5.');
    expect(() => applyOverrides(base, { iterations: '10', decayIterations: '20' })).toThrow(
      'decayIterations (20) cannot exceed iterations (10).',
    );
  });
});
