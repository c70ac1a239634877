/**
 * The grid at three periods, for one or more model packages on the same pairs: the grid score of
 * `peerstyle eval` (the 2- and 4-pixel peaks, functions/eval/grid-score.ts) and the same prominence
 * ratio on the rest of the 8-pixel lattice (EIGHT_PIXEL_PEAKS), where a checkerboard between the
 * decoder's latent cells shows. The pairs are `peerstyle eval`'s for the same folders, `--limit` and
 * `--seed`; each content is also rendered once at strength 0 with its first style, as eval does.
 *
 * Prints mean ± standard deviation per model, for the stylised outputs and the reconstructions.
 * Run: `npx tsx bench/grid-lattice.ts --model <dir> [--model <dir> …] --content <dir> --style <dir>
 * [--limit 32] [--size 256] [--seed 1] [--threads 1]`.
 */
import path from 'node:path';
import { createEngineStylizer } from '../functions/eval/engine-stylizer';
import { countedSummary } from '../functions/eval/fidelity';
import { EIGHT_PIXEL_PEAKS, GRID_PEAKS, gridScore, peakProminence, type GridPeaks } from '../functions/eval/grid-score';
import { listImages } from '../functions/eval/list-images';
import { luminance } from '../functions/eval/luminance';
import { loadImageAt, resizeRgb, type RgbImage } from '../functions/eval/rgb-image';
import { selectPairs } from '../functions/eval/run-eval';

function flags(name: string): string[] {
  const args = process.argv.slice(2);
  const values: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && i + 1 < args.length) values.push(args[++i]);
    else if (args[i].startsWith(`--${name}=`)) values.push(args[i].slice(name.length + 3));
  }
  return values;
}

function flag(name: string, fallback?: string): string {
  const value = flags(name).at(-1) ?? fallback;
  if (value === undefined) throw new Error(`--${name} is required.`);
  return value;
}

const PERIODS: { label: string; peaks: GridPeaks }[] = [
  { label: '2- and 4-px (grid score)', peaks: GRID_PEAKS },
  { label: '8-px lattice', peaks: EIGHT_PIXEL_PEAKS },
];

function scores(output: RgbImage, content: RgbImage): (number | undefined)[] {
  const outputLuma = luminance(output);
  const contentLuma = luminance(content);
  return PERIODS.map(({ peaks }) => gridScore(outputLuma, peakProminence(contentLuma, peaks), peaks));
}

function line(label: string, values: (number | undefined)[]): string {
  const s = countedSummary(values.map((v) => (v !== undefined && Number.isFinite(v) ? v : null)));
  return `  ${label.padEnd(26)} ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}  (n ${s.n})`;
}

async function main(): Promise<void> {
  const models = flags('model');
  if (models.length === 0) throw new Error('Give at least one --model <package dir>.');
  const contentFiles = await listImages(flag('content'), '--content');
  const styleFiles = await listImages(flag('style'), '--style');
  const limit = Number(flag('limit', '32'));
  const size = Number(flag('size', '256'));
  const seed = Number(flag('seed', '1'));
  const threads = Number(flag('threads', '1'));
  const pairs = selectPairs(contentFiles.length, styleFiles.length, limit, seed);
  console.log(`${pairs.length} pairs, ${size} px on the long side, seed ${seed}`);

  for (const model of models) {
    const stylizer = createEngineStylizer({ modelDir: model, intraOpThreads: threads });
    const outputs: (number | undefined)[][] = PERIODS.map(() => []);
    const recons: (number | undefined)[][] = PERIODS.map(() => []);
    const seen = new Set<number>();
    try {
      for (const [c, s] of pairs) {
        const content = await loadImageAt(contentFiles[c], size);
        const atContentSize = async (image: RgbImage) =>
          image.width === content.width && image.height === content.height
            ? image
            : resizeRgb(image, content.width, content.height);
        if (!seen.has(c)) {
          seen.add(c);
          const recon = await atContentSize(
            await stylizer.stylize(contentFiles[c], styleFiles[s], { strength: 0, size }),
          );
          scores(recon, content).forEach((v, i) => recons[i].push(v));
        }
        const output = await atContentSize(await stylizer.stylize(contentFiles[c], styleFiles[s], { size }));
        scores(output, content).forEach((v, i) => outputs[i].push(v));
      }
    } finally {
      await stylizer.close();
    }
    console.log(`\n${path.resolve(model)}`);
    console.log(' stylised outputs:');
    PERIODS.forEach(({ label }, i) => console.log(line(label, outputs[i])));
    console.log(' reconstructions (strength 0):');
    PERIODS.forEach(({ label }, i) => console.log(line(label, recons[i])));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
