/**
 * Peak memory and time of large stylisations: content of 1024, 2048 and 4096 px (square) with a 512 px
 * style, each size in its own child process so that one size's peak cannot hide in another's. A child
 * reports the peak resident set size two ways: the kernel's maxRSS (process.resourceUsage, the true
 * peak, including onnxruntime's native buffers) and the highest of RSS samples taken every 25 ms.
 * Prints figures; never passes or fails. A size that runs past `--timeout-min` is stopped, and its
 * line says how far it got.
 *
 * Each stage (load the package, read, encode, transfer, render, write) is timed from the engine's
 * progress events, in wall-clock seconds and in CPU seconds of the whole process (every onnxruntime
 * thread included), with the highest RSS sample seen during it. On a shared machine the wall-clock
 * figures follow the load; the CPU figures much less so. The last table gives each stage's growth
 * from one size to the next: a stage linear in the pixels grows 4× when the side doubles.
 *
 *   npx tsx bench/stylize-memory.ts [--sizes 1024,2048,4096] [--threads 2] [--timeout-min 10] [--random]
 *
 * The model is models/default when it exists, otherwise a `small` package from random weights.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createEngine, type Progress } from '../functions/engine';
import { must } from '../functions/core/must';
import { flag } from './support/flag';

/** The stages a child times, in order. 'load' opens the package; the others are the engine's own. */
const STAGES = ['load', 'read', 'encode', 'transfer', 'render', 'write'] as const;
type Stage = (typeof STAGES)[number];

/** One stage's cost in a child. */
interface StageFigures {
  seconds: number;
  cpuSeconds: number;
  peakMiB: number;
}

/** What a child prints as its last line. */
interface ChildReport {
  size: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  sampledPeakMiB: number;
  stages: Partial<Record<Stage, StageFigures>>;
}

const MIB = 1024 * 1024;

/** CPU seconds (user + system, all threads) this process has used. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * One stylisation in this process; prints a {@link ChildReport} as JSON. The engine's first report of
 * a stage starts it, except that the transfer starts at the last 'encode' report (the content latent
 * is done then; the first 'transfer' report comes only after the first TPFR call).
 */
async function child(modelDir: string, contentFile: string, styleFile: string, size: number): Promise<void> {
  const threads = Number(flag('threads', '2'));
  let sampled = process.memoryUsage().rss;
  let current: Stage = 'load';
  const peaks: Partial<Record<Stage, number>> = {};
  const sample = (): void => {
    const rss = process.memoryUsage().rss;
    sampled = Math.max(sampled, rss);
    peaks[current] = Math.max(peaks[current] ?? 0, rss);
  };
  const sampler = setInterval(sample, 25);
  // Wall-clock and CPU seconds at the start of each stage.
  const marks: { stage: Stage; at: number; cpu: number }[] = [];
  const enter = (stage: Stage): void => {
    sample();
    current = stage;
    marks.push({ stage, at: performance.now() / 1000, cpu: cpuSeconds() });
  };
  enter('load');
  const engine = await createEngine({ modelDir, intraOpThreads: threads });
  let encodeDone: { at: number; cpu: number } | undefined;
  await engine.stylize({
    content: contentFile,
    styles: [{ image: styleFile }],
    styleSize: 512,
    // The engine at the output's own size; a package's defaults.renderScale would multiply the work.
    renderScale: 1,
    onProgress: (p: Progress) => {
      const stage = p.stage === 'preview' ? current : p.stage;
      if (stage === 'encode') encodeDone = { at: performance.now() / 1000, cpu: cpuSeconds() };
      if (stage !== current) {
        enter(stage);
        // The transfer began when the encoder's last report came, not at TPFR's first report.
        const mark = marks.at(-1);
        if (stage === 'transfer' && encodeDone && mark) Object.assign(mark, encodeDone);
      }
      // Progress is synchronous with the engine's own loops, so it also catches peaks between samples.
      sample();
      if (p.stage === 'transfer') process.stderr.write(`\r${size}px transfer ${(100 * p.progress).toFixed(0)}%  `);
    },
  });
  sample();
  clearInterval(sampler);
  const end = { at: performance.now() / 1000, cpu: cpuSeconds() };
  await engine.close();
  const stages: ChildReport['stages'] = {};
  marks.forEach((m, i) => {
    const next = marks[i + 1] ?? end;
    stages[m.stage] = { seconds: next.at - m.at, cpuSeconds: next.cpu - m.cpu, peakMiB: (peaks[m.stage] ?? 0) / MIB };
  });
  const start = must(marks[0], "the 'load' mark");
  const report: ChildReport = {
    size,
    seconds: end.at - start.at,
    cpuSeconds: end.cpu - start.cpu,
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
      const progress = text
        .split('\r')
        .filter((t) => t.includes('transfer'))
        .at(-1);
      if (progress !== undefined) lastProgress = progress.trim();
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

const fixed = (v: number | undefined, digits: number, width: number): string =>
  (v === undefined ? '-' : v.toFixed(digits)).padStart(width);

/** Per size: each stage's wall-clock and CPU seconds and its peak RSS sample. */
function printStages(reports: ChildReport[]): void {
  console.log('\nper stage: wall s / CPU s / peak RSS MiB sampled during it');
  console.log(`${'content'.padEnd(10)}${STAGES.map((s) => s.padStart(22)).join('')}`);
  for (const r of reports) {
    const cells = STAGES.map((s) => {
      const f = r.stages[s];
      return f
        ? `${f.seconds.toFixed(1)} / ${f.cpuSeconds.toFixed(1)} / ${f.peakMiB.toFixed(0)}`.padStart(22)
        : '-'.padStart(22);
    });
    console.log(`${`${r.size} px`.padEnd(10)}${cells.join('')}`);
  }
}

/** Each stage's growth between consecutive sizes, wall-clock and CPU (render + write also together). */
function printRatios(reports: ChildReport[]): void {
  if (reports.length < 2) return;
  const columns: { name: string; of: (r: ChildReport, cpu: boolean) => number | undefined }[] = [
    ...STAGES.filter((s) => s !== 'load').map((s) => ({
      name: s,
      of: (r: ChildReport, cpu: boolean) => (cpu ? r.stages[s]?.cpuSeconds : r.stages[s]?.seconds),
    })),
    {
      name: 'render+write',
      of: (r: ChildReport, cpu: boolean) => {
        const [a, b] = [r.stages.render, r.stages.write];
        if (!a || !b) return undefined;
        return cpu ? a.cpuSeconds + b.cpuSeconds : a.seconds + b.seconds;
      },
    },
  ];
  console.log('\ngrowth per step: wall × / CPU × (linear in the pixels: 4× per doubling of the side)');
  console.log(`${'step'.padEnd(14)}${columns.map((c) => c.name.padStart(16)).join('')}`);
  for (const [i, b] of reports.entries()) {
    const a = reports[i - 1];
    if (a === undefined) continue;
    const cells = columns.map((c) => {
      const ratio = (cpu: boolean): string => {
        const [x, y] = [c.of(a, cpu), c.of(b, cpu)];
        return x === undefined || y === undefined || x <= 0 ? '-' : `${(y / x).toFixed(1)}×`;
      };
      return `${ratio(false)} / ${ratio(true)}`.padStart(16);
    });
    console.log(`${`${a.size}→${b.size}`.padEnd(14)}${cells.join('')}`);
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    await child(flag('model', ''), flag('content', ''), flag('style', ''), Number(flag('size', '0')));
    return;
  }
  const sizes = flag('sizes', '1024,2048,4096').split(',').map(Number);
  const timeoutMs = Number(flag('timeout-min', '10')) * 60_000;
  // Only this process exports the model and draws the images: the children load neither TF.js nor the
  // trainer, so their RSS is the engine's alone.
  await import('@tensorflow/tfjs-backend-cpu');
  const tf = await import('@tensorflow/tfjs-core');
  const { benchModel, syntheticImage } = await import('./support/stylize-fixture');
  await tf.setBackend('cpu');
  const model = await benchModel({ forceRandom: process.argv.includes('--random') });
  const work = mkdtempSync(path.join(tmpdir(), 'peerstyle-bench-images-'));
  const styleFile = path.join(work, 'style.png');
  writeFileSync(styleFile, await syntheticImage(512, 512, 2));
  console.log(`model: ${model.origin}`);
  console.log(`style 512×512; one child process per content size; ${flag('threads', '2')} intra-op threads`);
  console.log('content      seconds   CPU s   maxRSS MiB   sampled peak MiB');
  const reports: ChildReport[] = [];
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
      reports.push(r);
      console.log(
        `${`${size}×${size}`.padEnd(12)}${fixed(r.seconds, 1, 8)}${fixed(r.cpuSeconds, 1, 8)}${fixed(r.maxRssMiB, 0, 13)}${fixed(r.sampledPeakMiB, 0, 19)}`,
      );
    } else {
      console.log(
        `${`${size}×${size}`.padEnd(12)}  no result: ${result.failure}${result.lastProgress ? `; last progress: ${result.lastProgress}` : ''}`,
      );
    }
  }
  printStages(reports);
  printRatios(reports);
  rmSync(work, { recursive: true, force: true });
  if (model.temporary) rmSync(model.dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
