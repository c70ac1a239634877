/**
 * Peak memory and time of large stylisations: content of 1024, 2048 and 4096 px (square) with a 512 px
 * style, each size in its own child process so that one size's peak cannot hide in another's. A child
 * reports the peak resident set size two ways: the kernel's maxRSS (process.resourceUsage, the true
 * peak, including onnxruntime's native buffers) and the highest of RSS samples taken every 25 ms.
 * Prints figures; never passes or fails. A size that runs past `--timeout-min` is stopped, and its
 * line says how far it got.
 *
 *   npx tsx bench/stylize-memory.ts [--sizes 1024,2048,4096] [--threads 2] [--timeout-min 10] [--random]
 *
 * The model is models/default when it exists, otherwise a `small` package from random weights.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { createEngine, type Progress } from '../functions/engine';
import { benchModel, syntheticImage } from './support/stylize-fixture';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** What a child prints as its last line. */
interface ChildReport {
  size: number;
  seconds: number;
  maxRssMiB: number;
  sampledPeakMiB: number;
  /** Seconds from the start to the first report of each stage. */
  stages: Partial<Record<Progress['stage'], number>>;
}

const MIB = 1024 * 1024;

/** One stylisation in this process; prints a {@link ChildReport} as JSON. */
async function child(modelDir: string, contentFile: string, styleFile: string, size: number): Promise<void> {
  const threads = Number(flag('threads', '2'));
  let sampled = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  }, 25);
  const stages: ChildReport['stages'] = {};
  const start = performance.now();
  const engine = await createEngine({ modelDir, intraOpThreads: threads });
  await engine.stylize({
    content: contentFile,
    styles: [{ image: styleFile }],
    styleSize: 512,
    onProgress: (p) => {
      stages[p.stage] ??= (performance.now() - start) / 1000;
      // Progress is synchronous with the engine's own loops, so it also catches peaks between samples.
      sampled = Math.max(sampled, process.memoryUsage().rss);
      if (p.stage === 'transfer') process.stderr.write(`\r${size}px transfer ${(100 * p.fraction).toFixed(0)}%  `);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  await engine.close();
  const report: ChildReport = {
    size,
    seconds,
    // resourceUsage().maxRSS is in kibibytes.
    maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
    sampledPeakMiB: sampled / MIB,
    stages,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** Runs one size in a child process; resolves with its report or with why it has none. */
function runChild(
  args: string[],
  timeoutMs: number,
): Promise<{ report?: ChildReport; failure?: string; lastProgress: string }> {
  return new Promise((resolve) => {
    // The same runtime and loader flags (tsx) as this process, so the child can load TypeScript.
    const proc = spawn(process.execPath, [...process.execArgv, __filename, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let lastProgress = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      const progress = text.split('\r').filter((t) => t.includes('transfer'));
      if (progress.length > 0) lastProgress = progress[progress.length - 1].trim();
      else if (!/tensorflow|====|^\s*$/i.test(text)) process.stderr.write(text);
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve({ report: JSON.parse(line) as ChildReport, lastProgress });
      else
        resolve({ failure: signal ? `stopped (${signal}) after the time limit` : `exit code ${code}`, lastProgress });
    });
  });
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    await child(flag('model', ''), flag('content', ''), flag('style', ''), Number(flag('size', '0')));
    return;
  }
  const sizes = flag('sizes', '1024,2048,4096').split(',').map(Number);
  const timeoutMs = Number(flag('timeout-min', '10')) * 60_000;
  await tf.setBackend('cpu');
  const model = await benchModel({ forceRandom: process.argv.includes('--random') });
  const work = mkdtempSync(path.join(tmpdir(), 'peerstyle-bench-images-'));
  const styleFile = path.join(work, 'style.png');
  writeFileSync(styleFile, await syntheticImage(512, 512, 2));
  console.log(`model: ${model.origin}`);
  console.log(`style 512×512; one child process per content size; ${flag('threads', '2')} intra-op threads`);
  console.log('content      seconds   maxRSS MiB   sampled peak MiB   encode→transfer→render→write (s from start)');
  for (const size of sizes) {
    const contentFile = path.join(work, `content-${size}.png`);
    writeFileSync(contentFile, await syntheticImage(size, size, 1));
    const result = await runChild(
      [
        '--child',
        '--model',
        model.dir,
        '--content',
        contentFile,
        '--style',
        styleFile,
        '--size',
        String(size),
        '--threads',
        flag('threads', '2'),
      ],
      timeoutMs,
    );
    if (result.report) {
      const r = result.report;
      const s = r.stages;
      const marks = [s.encode, s.transfer, s.render, s.write].map((v) => (v === undefined ? '-' : v.toFixed(1)));
      console.log(
        `${`${size}×${size}`.padEnd(12)}${r.seconds.toFixed(1).padStart(8)}${r.maxRssMiB.toFixed(0).padStart(13)}${r.sampledPeakMiB.toFixed(0).padStart(19)}   ${marks.join(' → ')}`,
      );
    } else {
      console.log(
        `${`${size}×${size}`.padEnd(12)}  no result: ${result.failure}${result.lastProgress ? `; last progress: ${result.lastProgress}` : ''}`,
      );
    }
  }
  rmSync(work, { recursive: true, force: true });
  if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
