/**
 * What a model package's latent holds about images it never saw, for diagnosing why a style's texture
 * does or does not come through:
 * - for each channel group of the latent (content codes, global style codes, local style codes), the
 *   share of its energy (mean square) that varies from position to position, averaged over the images;
 *   the rest is the group's per-channel mean, the same at every position. Codes that barely vary give
 *   TPFR nothing local to recombine.
 * - for the style codes' per-channel means and deviations over positions (the condition of
 *   `styleModulation`), how much they differ between the images relative to their typical size: the
 *   root mean square over channels of their spread between images, over that of their mean.
 * - with `--out`, each image decoded from its own latent (the colour step taking the image's own
 *   colours), written as `<name>.self.png` beside a copy of the input at the same side: whether the
 *   decoder can draw that image's texture at that scale at all.
 *
 *   npx tsx bench/latent-codes.ts [--model models/default] --images <dir> [--side 128] [--limit 12] [--out <dir>]
 *
 * Prints figures; never passes or fails.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { must } from '../functions/core/must';
import { DEFAULT_LIMITS, loadModelPackage } from '../functions/engine';
import { toNchw, toRgb } from '../functions/engine/engine';
import { encodeImage, readImage, resizeRgb } from '../functions/engine/image-io';
import { run, type FloatTensor } from '../functions/engine/onnx-session';
import { decoderFeeds } from '../functions/engine/style-condition';
import { outputColourStep } from '../functions/engine/output-colour';
import { latentChannels } from '../trainer/config';
import { DECODER_IO, ENCODER_IO } from '../trainer/export/package-format';
import { flag } from './support/flag';

/** Per channel of [from, to): the mean and the mean square of its values over positions. */
function channelSums(latent: FloatTensor, from: number, to: number): { mean: number; square: number }[] {
  const [, , h, w] = latent.dims as [number, number, number, number];
  const n = h * w;
  const sums: { mean: number; square: number }[] = [];
  for (let c = from; c < to; c++) {
    let sum = 0;
    let squares = 0;
    for (let p = 0; p < n; p++) {
      const v = latent.data[c * n + p]!;
      sum += v;
      squares += v * v;
    }
    sums.push({ mean: sum / n, square: squares / n });
  }
  return sums;
}

/** Per channel of [from, to): its mean and its deviation over positions. */
function channelMoments(latent: FloatTensor, from: number, to: number): { mean: number[]; deviation: number[] } {
  const sums = channelSums(latent, from, to);
  return {
    mean: sums.map((s) => s.mean),
    deviation: sums.map((s) => Math.sqrt(Math.max(0, s.square - s.mean ** 2))),
  };
}

/** RMS over channels of the spread between images, and RMS of the channels' average: rows are images. */
function spreadBetween(rows: number[][]): { spread: number; size: number } {
  const channels = rows[0]?.length ?? 0;
  let spread = 0;
  let size = 0;
  for (let c = 0; c < channels; c++) {
    const column = rows.map((r) => r[c]!);
    const mean = column.reduce((a, b) => a + b, 0) / column.length;
    spread += column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length;
    size += mean * mean;
  }
  return { spread: Math.sqrt(spread / channels), size: Math.sqrt(size / channels) };
}

/** Share of the mean square of channels [from, to) that is variance over positions. */
function spatialShare(latent: FloatTensor, from: number, to: number): number {
  let variance = 0;
  let energy = 0;
  for (const { mean, square } of channelSums(latent, from, to)) {
    variance += square - mean ** 2;
    energy += square;
  }
  return energy > 0 ? variance / energy : 0;
}

async function main(): Promise<void> {
  const modelDir = flag('model', 'models/default');
  const imagesDir = flag('images', '');
  if (imagesDir === '') throw new Error('--images <dir> is required.');
  const side = Number(flag('side', '128'));
  const limit = Number(flag('limit', '12'));
  const outDir = flag('out', '');
  const pkg = await loadModelPackage(modelDir, { intraOpThreads: 1 });
  const groups = latentChannels(pkg.manifest.config);
  const ranges: [string, number, number][] = [
    ['content codes', 0, groups.content],
    ['global style codes', groups.content, groups.content + groups.globalStyle],
    ['local style codes', groups.content + groups.globalStyle, groups.total],
  ];
  const files = readdirSync(imagesDir)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .sort()
    .slice(0, limit);
  if (outDir !== '') mkdirSync(outDir, { recursive: true });
  const shares = ranges.map(() => 0);
  const styleMeans: number[][] = [];
  const styleDeviations: number[][] = [];
  for (const file of files) {
    const image = await readImage(readFileSync(path.join(imagesDir, file)), file, DEFAULT_LIMITS);
    const scale = side / Math.max(image.width, image.height);
    const width = Math.max(4, Math.round((image.width * scale) / 4) * 4);
    const height = Math.max(4, Math.round((image.height * scale) / 4) * 4);
    const input = await resizeRgb(image, width, height);
    const latent = must(
      (await run(pkg.sessions.encoder, { [ENCODER_IO.image]: toNchw(input) }))[ENCODER_IO.latent],
      'the latent',
    );
    ranges.forEach(([, from, to], i) => (shares[i]! += spatialShare(latent, from, to) / files.length));
    const local = channelMoments(latent, groups.content + groups.globalStyle, groups.total);
    styleMeans.push([
      ...channelMoments(latent, groups.content, groups.content + groups.globalStyle).mean,
      ...local.mean,
    ]);
    styleDeviations.push(local.deviation); // the global codes' deviations are always 0
    if (outDir !== '') {
      const decoded = must(
        (await run(pkg.sessions.decoder, decoderFeeds(pkg.sessions.decoder, pkg.manifest.config, latent)))[
          DECODER_IO.image
        ],
        'the image',
      );
      const own = outputColourStep(pkg.manifest, input, [{ image: input, weight: 1 }], 0);
      const stem = path.join(outDir, path.parse(file).name);
      writeFileSync(`${stem}.png`, await encodeImage(input, 'png'));
      writeFileSync(`${stem}.self.png`, await encodeImage(toRgb(own(decoded)), 'png'));
    }
  }
  console.log(
    `${pkg.manifest.name} ${pkg.manifest.version}, ${files.length} images of ${imagesDir} at a ${side} px side`,
  );
  console.log("share of each group's energy that varies over positions:");
  ranges.forEach(([name], i) => console.log(`  ${name}: ${Math.max(0, 100 * shares[i]!).toFixed(1)}%`));
  console.log("spread between the images of the style codes' statistics, over their typical size (RMS over channels):");
  for (const [name, rows] of [
    ['per-channel means (global and local)', styleMeans],
    ['per-channel deviations (local)', styleDeviations],
  ] as const) {
    const { spread, size } = spreadBetween(rows);
    console.log(`  ${name}: ${spread.toFixed(4)} / ${size.toFixed(4)} = ${(spread / size).toFixed(3)}`);
  }
  if (outDir !== '') console.log(`each image and its decoding from its own latent: ${outDir}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
