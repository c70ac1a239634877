/**
 * Per-stage wall time (and CPU time) of one engine request, read from the engine's own progress reports so that the
 * figures follow whatever the engine does inside a stage (chunking, caching, tiling) without the
 * benchmark re-implementing the pipeline. The engine reports `encode` before the content is encoded and
 * after each style, `transfer` after each TPFR chunk, `render` before decoding and `write` after the
 * final resample, so: encode = first `encode` → last `encode`, TPFR = last `encode` → `render`,
 * decode = `render` → first `write` (the decoder plus a resample to the output size).
 */
import type { Engine, Progress, StylizeRequest } from '../../functions/engine';

/** Seconds spent in each stage of one request, and in total. */
export interface StageTimes {
  read: number;
  encode: number;
  tpfr: number;
  decode: number;
  write: number;
  total: number;
  /** TPFR calls (one per `transfer` report). */
  tpfrCalls: number;
}

/** Runs one request and splits its wall time by stage. */
export async function timeStages(engine: Engine, request: StylizeRequest): Promise<StageTimes> {
  return (await clockStages(engine, request)).wall;
}

/**
 * Runs one request and splits both its wall time and the process's CPU time (every thread, onnxruntime's
 * and sharp's included) by stage, on the same marks.
 */
export async function clockStages(
  engine: Engine,
  request: StylizeRequest,
): Promise<{ wall: StageTimes; cpu: Omit<StageTimes, 'tpfrCalls'> }> {
  const cpuNow = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const marks: { stage: Progress['stage']; at: number; cpu: number }[] = [];
  const start = { at: performance.now(), cpu: cpuNow() };
  await engine.stylize({
    ...request,
    onProgress: (p) => marks.push({ stage: p.stage, at: performance.now(), cpu: cpuNow() }),
  });
  const end = { at: performance.now(), cpu: cpuNow() };
  const first = (stage: Progress['stage']): (typeof marks)[number] => {
    const m = marks.find((x) => x.stage === stage);
    if (!m) throw new Error(`The engine never reported the "${stage}" stage.`);
    return m;
  };
  const last = (stage: Progress['stage']): (typeof marks)[number] => {
    const found = marks.filter((x) => x.stage === stage).at(-1);
    if (!found) throw new Error(`The engine never reported the "${stage}" stage.`);
    return found;
  };
  const split = (clock: 'at' | 'cpu'): Omit<StageTimes, 'tpfrCalls'> => {
    const s = (from: { at: number; cpu: number }, to: { at: number; cpu: number }): number =>
      (to[clock] - from[clock]) / 1000;
    return {
      read: s(start, first('encode')),
      encode: s(first('encode'), last('encode')),
      tpfr: s(last('encode'), first('render')),
      decode: s(first('render'), first('write')),
      write: s(first('write'), end),
      total: s(start, end),
    };
  };
  return {
    wall: { ...split('at'), tpfrCalls: marks.filter((m) => m.stage === 'transfer').length },
    cpu: split('cpu'),
  };
}
