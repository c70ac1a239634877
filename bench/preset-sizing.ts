/**
 * How the `small` preset was sized: seconds per training iteration on the wasm backend for candidate
 * widths, depths and crop sizes around it, measured in one run so they compare fairly on a busy machine.
 * Prints a table; never passes or fails.
 *
 *   npx tsx bench/preset-sizing.ts [--iterations 3]
 */
import path from 'node:path';
import { initBackend } from '../trainer/backend';
import { applyOverrides, presetConfig } from '../trainer/config';
import { createModel } from '../trainer/model';
import { TsprTrainer } from '../trainer/train-step';
import { indexDataset } from '../trainer/data/dataset-index';
import { PairSampler } from '../trainer/data/pair-sampler';
import { iterationFlops } from '../trainer/flops';

const CANDIDATES: Record<string, string>[] = [
  { ngf: '16', encoderBlocks: '3', decoderBlocks: '3', cropSize: '128', loadSize: '143' },
  { ngf: '16', encoderBlocks: '2', decoderBlocks: '2', cropSize: '128', loadSize: '143' },
  { ngf: '32', encoderBlocks: '3', decoderBlocks: '3', cropSize: '128', loadSize: '143' },
  { ngf: '16', encoderBlocks: '3', decoderBlocks: '3', cropSize: '96', loadSize: '107' },
  { ngf: '16', encoderBlocks: '3', decoderBlocks: '3', cropSize: '160', loadSize: '178' },
];

async function main(): Promise<void> {
  const i = process.argv.indexOf('--iterations');
  const iterations = i >= 0 ? Number(process.argv[i + 1]) : 3;
  await initBackend('wasm');
  const index = await indexDataset(path.join(__dirname, '..', 'datasets', 'sample'), { maxCorruptFraction: 0.1 });
  console.log('| ngf | blocks | crop | parameters | GFLOP/it | s/it |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const overrides of CANDIDATES) {
    const cfg = applyOverrides(presetConfig('small'), overrides);
    const sampler = new PairSampler(index, cfg);
    const store = createModel(cfg, cfg.seed);
    const trainer = new TsprTrainer(cfg, store);
    trainer.step(await sampler.next()); // warm-up
    const batches = [];
    for (let k = 0; k < iterations; k++) batches.push(await sampler.next());
    const t = process.hrtime.bigint();
    for (const b of batches) trainer.step(b);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9 / iterations;
    const gflop = iterationFlops(cfg).total / 1e9;
    console.log(
      `| ${cfg.ngf} | ${cfg.encoderBlocks}+${cfg.decoderBlocks} | ${cfg.cropSize} | ${store.count()} | ${gflop.toFixed(1)} | ${seconds.toFixed(2)} |`,
    );
    trainer.dispose();
    store.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
