/**
 * Training throughput of the `small` preset (or another: `--preset`) on the wasm backend: iterations per
 * second at its crop size, the achieved GFLOP/s (trainer/flops.ts counts an iteration's FLOPs), and the
 * wasm backend's forward convolution throughput measured in the same run, so that the ratio does not
 * depend on how busy the machine is. Prints figures; never passes or fails.
 *
 *   npx tsx bench/train-throughput.ts [--preset small] [--iterations 12] [--threads N] [--profile] [--key=value …]
 *   npx tsx bench/train-throughput.ts --sweep 1,2     # one child run per thread count, then their ratio
 *
 * `--key=value` overrides a preset key with the trainer's own parser (trainer/config.ts `applyOverrides`),
 * e.g. `--ngf=16 --cropSize=128`, so that one architecture can be measured even after a preset changes.
 * `--profile` adds the time per iteration of each top-level kernel (the ones the training code calls;
 * kernels that kernels call are inside their callers' time), to see where an iteration goes. Besides
 * wall time the run reports the process's CPU time per iteration, which a busy machine distorts less.
 * PEERSTYLE_NATIVE_CONV=off measures the wasm convolutions instead of onnxruntime's (trainer/native-conv).
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { must } from '../functions/core/must';
import { initBackend } from '../trainer/backend';
import { applyOverrides, presetConfig } from '../trainer/config';
import { createModel } from '../trainer/model';
import { TsprTrainer } from '../trainer/train-step';
import { indexDataset } from '../trainer/data/dataset-index';
import { PairSampler } from '../trainer/data/pair-sampler';
import { iterationFlops } from '../trainer/flops';
import { measureWasmConvThroughput } from './conv-throughput';
import { flag } from './support/flag';
import path from 'node:path';

/** The `--key=value` arguments, as the trainer takes them (keys are checked by `applyOverrides`). */
function configOverrides(argv: string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const arg of argv) {
    const [, key, value] = /^--([^=]+)=(.*)$/.exec(arg) ?? [];
    if (key !== undefined && value !== undefined) overrides[key] = value;
  }
  return overrides;
}

/** Wraps every wasm kernel with a timer; returns the totals by kernel name (top-level calls only). */
function timeKernels(): Map<string, { ms: number; calls: number }> {
  const totals = new Map<string, { ms: number; calls: number }>();
  let depth = 0;
  for (const kernel of tf.getKernelsForBackend('wasm')) {
    const inner = kernel.kernelFunc;
    (kernel as { kernelFunc: typeof inner }).kernelFunc = (args) => {
      depth++;
      const started = performance.now();
      try {
        return inner(args);
      } finally {
        depth--;
        if (depth === 0) {
          const t = totals.get(kernel.kernelName) ?? { ms: 0, calls: 0 };
          t.ms += performance.now() - started;
          t.calls++;
          totals.set(kernel.kernelName, t);
        }
      }
    };
  }
  return totals;
}

/** Runs this benchmark once per thread count in a child process and prints the iteration rates side by side. */
function sweep(counts: number[]): void {
  const runs: { threads: number; rate: number }[] = [];
  for (const threads of counts) {
    const args = [...process.execArgv, __filename, '--threads', String(threads), '--preset', flag('preset', 'small')];
    args.push('--iterations', flag('iterations', '12'));
    args.push(...Object.entries(configOverrides(process.argv.slice(2))).map(([k, v]) => `--${k}=${v}`));
    const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const match = /^training: ([0-9.]+) it\/s/m.exec(child.stdout);
    if (child.status !== 0 || !match) throw new Error(`The run with ${threads} threads failed:\n${child.stderr}`);
    runs.push({ threads, rate: Number(match[1]) });
    console.log(`threads ${threads}: ${match[1]} it/s`);
  }
  const [base, ...others] = runs;
  for (const run of others) {
    if (base) console.log(`threads ${run.threads} vs ${base.threads}: ${(run.rate / base.rate).toFixed(2)}×`);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--sweep')) {
    sweep(flag('sweep', '1,2').split(',').map(Number));
    return;
  }
  const preset = flag('preset', 'small');
  const iterations = Number(flag('iterations', '12'));
  const threadsFlag = process.argv.includes('--threads') ? Number(flag('threads', '1')) : undefined;
  const backend = await initBackend('wasm', { threads: threadsFlag });
  const profile = process.argv.includes('--profile') ? timeKernels() : undefined;
  const overrides = configOverrides(process.argv.slice(2));
  const cfg = applyOverrides(presetConfig(preset), overrides);
  const index = await indexDataset(path.join(__dirname, '..', 'datasets', 'sample'), { maxCorruptFraction: 0.1 });
  const sampler = new PairSampler(index, cfg);
  const store = createModel(cfg, cfg.seed);
  const trainer = new TsprTrainer(cfg, store);
  const warmUp = [await sampler.next(), await sampler.next()];
  const batches = [];
  for (let i = 0; i < iterations; i++) batches.push(await sampler.next());
  for (const batch of warmUp) trainer.step(batch); // kernel compilation, optimiser state
  profile?.clear();
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  for (const batch of batches) trainer.step(batch);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const itPerS = iterations / seconds;
  const flops = iterationFlops(cfg);
  const achieved = (flops.total * itPerS) / 1e9;

  const conv = await measureWasmConvThroughput();
  const median = (xs: number[]) => must([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)], 'a median');
  const convForward = median(conv.map((c) => c.forwardGflops));

  const overridden = Object.entries(overrides).map(([k, v]) => ` ${k}=${v}`);
  console.log(
    `preset ${preset}${overridden.length > 0 ? ` with${overridden.join(',')}` : ''}: crop ${cfg.cropSize}, ngf ${cfg.ngf}, batch ${cfg.batchSize}, ${store.count()} parameters, wasm threads ${backend.threads}, convolutions on ${backend.nativeConv === true ? 'onnxruntime (native)' : 'wasm'}`,
  );
  console.log(
    `FLOPs per iteration: ${(flops.total / 1e9).toFixed(2)} G (forward ${(flops.forward / 1e9).toFixed(2)} G, TPFR ${(flops.tpfr / 1e9).toFixed(3)} G)`,
  );
  console.log(
    `training: ${itPerS.toFixed(3)} it/s over ${iterations} iterations (${(seconds / iterations).toFixed(2)} s/it)`,
  );
  console.log(`cpu time: ${(cpuSeconds / iterations).toFixed(2)} s/it (all threads of this process)`);
  console.log(`achieved: ${achieved.toFixed(1)} GFLOP/s`);
  const convName = backend.nativeConv === true ? 'onnxruntime' : 'wasm';
  for (const c of conv) {
    console.log(
      `${convName} conv 3x3 ${c.channels}->${c.channels} @ ${c.size}px: forward ${c.forwardGflops.toFixed(1)} GFLOP/s, forward+filter-grad ${c.forwardFilterGradGflops.toFixed(1)} GFLOP/s`,
    );
  }
  console.log(
    `ratio: ${((100 * achieved) / convForward).toFixed(0)}% of the ${convName} forward conv throughput (median ${convForward.toFixed(1)} GFLOP/s)`,
  );
  if (profile) {
    const rows = [...profile].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
    console.log('top-level kernels, ms per iteration (calls per iteration):');
    for (const [name, t] of rows) {
      console.log(`  ${name.padEnd(24)} ${(t.ms / iterations).toFixed(1).padStart(7)} (${t.calls / iterations})`);
    }
  }
  trainer.dispose();
  store.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
