/**
 * The lines of `peerstyle model inspect` that describe how a package renders and how it measured:
 * its inference defaults, its colour step, and the figures `peerstyle eval --record` wrote, read from
 * the manifest's loosely typed `eval` record (an older or hand-edited record falls back to its JSON).
 */
import type { ModelManifest } from '../../trainer/export/package-format';

/** "structure keep, style side 128 px, render scale 2", or "none". */
export function describeDefaults(defaults: ModelManifest['defaults']): string {
  const parts = [
    defaults?.structure !== undefined ? `structure ${defaults.structure}` : undefined,
    defaults?.styleSize !== undefined ? `style side ${defaults.styleSize} px` : undefined,
    defaults?.renderScale !== undefined ? `render scale ${defaults.renderScale}` : undefined,
    defaults?.conditionSide !== undefined ? `style condition read at ${defaults.conditionSide}² px` : undefined,
  ].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** Which colour step the decoders' outputs take (README, "Model fidelity"). */
export function describeColourStep(config: ModelManifest['config']): string {
  if (config.colorCov) return "the exemplar's mean and covariance (colorCov)";
  if (config.colorStd) return "the exemplar's mean and per-channel deviation (colorStd)";
  if (config.colorMean) return "the exemplar's mean (colorMean)";
  if (config.colorHead) return 'the learned colour head (colorHead)';
  return 'none';
}

/** One line of the recorded figures, or the record's JSON when it does not have the expected shape. */
export function describeEval(record: Record<string, unknown> | undefined): string {
  if (record === undefined) return 'not measured';
  const mean = (path: string[]): number | undefined => {
    let v: unknown = record;
    for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    return typeof v === 'number' ? v : undefined;
  };
  const ssim = mean(['summary', 'peerstyle', 'ssimLuma', 'mean']);
  const gram = mean(['summary', 'peerstyle', 'gramDistance', 'mean']);
  const swd = mean(['summary', 'peerstyle', 'colourSwd', 'mean']);
  if (ssim === undefined || gram === undefined || swd === undefined) return JSON.stringify(record);
  const recon = mean(['fidelity', 'reconstruction', 'psnrLuma', 'mean']);
  const grid = mean(['fidelity', 'gridScore', 'peerstyle', 'mean']);
  const targets = [
    ...(Array.isArray(record.targets) ? record.targets : []),
    ...(Array.isArray((record.fidelity as { targets?: unknown } | undefined)?.targets)
      ? (record.fidelity as { targets: unknown[] }).targets
      : []),
  ].filter((t): t is { met: boolean } => typeof (t as { met?: unknown })?.met === 'boolean');
  const where = [
    typeof record.pairs === 'number' ? `${record.pairs} pairs` : undefined,
    typeof record.size === 'number' ? `at ${record.size} px` : undefined,
    typeof record.renderScale === 'number' ? `render scale ${record.renderScale}` : undefined,
  ].filter(Boolean);
  return (
    `${where.length ? `${where.join(' ')}: ` : ''}SSIM luma ${ssim.toFixed(3)}, Gram ${gram.toFixed(3)}, ` +
    `colour SWD ${swd.toFixed(2)}` +
    (recon !== undefined ? `, strength 0 ${recon.toFixed(2)} dB` : '') +
    (grid !== undefined ? `, grid ${grid.toFixed(2)}` : '') +
    (targets.length ? `; targets met ${targets.filter((t) => t.met).length} of ${targets.length}` : '')
  );
}
