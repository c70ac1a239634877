/**
 * Per-stage wall time of one engine request, read from the engine's own progress reports so that the
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
  const marks: { stage: Progress['stage']; at: number }[] = [];
  const start = performance.now();
  await engine.stylize({ ...request, onProgress: (p) => marks.push({ stage: p.stage, at: performance.now() }) });
  const end = performance.now();
  const first = (stage: Progress['stage']): number => {
    const m = marks.find((x) => x.stage === stage);
    if (!m) throw new Error(`The engine never reported the "${stage}" stage.`);
    return m.at;
  };
  const last = (stage: Progress['stage']): number => {
    const found = marks.filter((x) => x.stage === stage);
    if (found.length === 0) throw new Error(`The engine never reported the "${stage}" stage.`);
    return found[found.length - 1].at;
  };
  const s = (from: number, to: number): number => (to - from) / 1000;
  return {
    read: s(start, first('encode')),
    encode: s(first('encode'), last('encode')),
    tpfr: s(last('encode'), first('render')),
    decode: s(first('render'), first('write')),
    write: s(first('write'), end),
    total: s(start, end),
    tpfrCalls: marks.filter((m) => m.stage === 'transfer').length,
  };
}
