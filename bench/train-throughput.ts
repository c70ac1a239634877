/**
 * Training throughput of the `small` preset (or another: `--preset`) on the wasm backend: iterations per
 * second at its crop size, the achieved GFLOP/s (trainer/flops.ts counts an iteration's FLOPs), and the
 * wasm backend's forward convolution throughput measured in the same run, so that the ratio does not
 * depend on how busy the machine is. Prints figures; never passes or fails.
 *
 *   npx tsx bench/train-throughput.ts [--preset small] [--iterations 12]
 */
import { initBackend } from '../trainer/backend';
import { presetConfig } from '../trainer/config';
import { createModel } from '../trainer/model';
import { TsprTrainer } from '../trainer/train-step';
import { indexDataset } from '../trainer/data/dataset-index';
import { PairSampler } from '../trainer/data/pair-sampler';
import { iterationFlops } from '../trainer/flops';
import { measureWasmConvThroughput } from './conv-throughput';
import path from 'node:path';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const preset = flag('preset', 'small');
  const iterations = Number(flag('iterations', '12'));
  await initBackend('wasm');
  const cfg = presetConfig(preset);
  const index = await indexDataset(path.join(__dirname, '..', 'datasets', 'sample'), { maxCorruptFraction: 0.1 });
  const sampler = new PairSampler(index, cfg);
  const store = createModel(cfg, cfg.seed);
  const trainer = new TsprTrainer(cfg, store);
  const batches = [];
  for (let i = 0; i < iterations + 2; i++) batches.push(await sampler.next());
  trainer.step(batches[0]); // warm-up: kernel compilation, optimiser state
  trainer.step(batches[1]);
  const started = process.hrtime.bigint();
  for (let i = 2; i < batches.length; i++) trainer.step(batches[i]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const itPerS = iterations / seconds;
  const flops = iterationFlops(cfg);
  const achieved = (flops.total * itPerS) / 1e9;

  const conv = await measureWasmConvThroughput();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const convForward = median(conv.map((c) => c.forwardGflops));

  console.log(
    `preset ${preset}: crop ${cfg.cropSize}, ngf ${cfg.ngf}, batch ${cfg.batchSize}, ${store.count()} parameters`,
  );
  console.log(
    `FLOPs per iteration: ${(flops.total / 1e9).toFixed(2)} G (forward ${(flops.forward / 1e9).toFixed(2)} G, TPFR ${(flops.tpfr / 1e9).toFixed(3)} G)`,
  );
  console.log(
    `training: ${itPerS.toFixed(3)} it/s over ${iterations} iterations (${(seconds / iterations).toFixed(2)} s/it)`,
  );
  console.log(`achieved: ${achieved.toFixed(1)} GFLOP/s`);
  for (const c of conv) {
    console.log(
      `wasm conv 3x3 ${c.channels}->${c.channels} @ ${c.size}px: forward ${c.forwardGflops.toFixed(1)} GFLOP/s, forward+filter-grad ${c.forwardFilterGradGflops.toFixed(1)} GFLOP/s`,
    );
  }
  console.log(
    `ratio: ${((100 * achieved) / convForward).toFixed(0)}% of the wasm forward conv throughput (median ${convForward.toFixed(1)} GFLOP/s)`,
  );
  trainer.dispose();
  store.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
