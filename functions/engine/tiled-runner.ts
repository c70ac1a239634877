/**
 * Runs a tiled graph (trainer/export/tiled-graphs.ts) over a whole image with bounded memory and exact
 * instance-norm statistics. Only one tile's activations exist at a time; the input and output tensors
 * are whole, and at most a quarter-resolution latent or a 3-channel image.
 *
 * Each norm's statistics depend on the earlier norms', so there is one pass over the tiles per norm:
 * pass p feeds the finished statistics of norms 0..p−1 (placeholders for the rest, whose outputs pass p
 * ignores) and accumulates per-channel sums and sums of squares of `norm{p}.pre` over each tile's
 * interior, in float64. A final pass writes each tile's interior of the output. Tiles overlap by a halo
 * of at least the network's receptive radius, so interiors match an untiled run. Each pass fetches only
 * the one output it reads, so onnxruntime runs the graph only as far as that norm's input and holds no
 * later activations.
 *
 * The engine runs the faster form, {@link runStaged}: the same passes over the graph cut into stages at
 * its norms, each pass starting from the state the previous one kept, stored by rows of tiles.
 *
 * The global-style graph then turns the raw latent into the latent ({@link applyGlobalStyle}).
 */
import { splitTiledGraph, type GraphStages } from '../../trainer/export/graph-stages';
import { ENCODER_IO, TILED_IO } from '../../trainer/export/package-format';
import { must } from '../core/must';
import {
  closeSession,
  createSession,
  nchw,
  run,
  type FloatTensor,
  type OnnxSession,
  type SessionOptions,
} from './onnx-session';

/** How to cut the input. */
export interface TileOptions {
  /** Interior side of a tile, in input pixels (a multiple of `align`). */
  tile: number;
  /** Overlap on each side, in input pixels (a multiple of `align`). */
  halo: number;
  /** Tile corners stay on multiples of this, so strided convs see the same grid as on the whole image. */
  align: number;
  /** Channels of each norm, in statistics order. */
  norms: readonly number[];
  /** Whole-image inputs fed unchanged to every tile (the modulated decoder's style condition). */
  constants?: Readonly<Record<string, FloatTensor>>;
  /** Called between tiles; throws to stop (cancellation). */
  check?: () => void;
}

interface Rect {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/** Runs `session` on `input` [1, C, H, W] tile by tile; returns its `output` for the whole image. */
export async function runTiled(session: OnnxSession, input: FloatTensor, opts: TileOptions): Promise<FloatTensor> {
  const [, , height, width] = nchw(input);
  if (opts.tile % opts.align !== 0 || opts.halo % opts.align !== 0) {
    throw new Error(`Tile (${opts.tile}) and halo (${opts.halo}) must be multiples of ${opts.align}.`);
  }
  const tiles: { interior: Rect; crop: Rect }[] = [];
  for (let y0 = 0; y0 < height; y0 += opts.tile) {
    for (let x0 = 0; x0 < width; x0 += opts.tile) {
      const interior = { y0, y1: Math.min(height, y0 + opts.tile), x0, x1: Math.min(width, x0 + opts.tile) };
      const crop = {
        y0: Math.max(0, y0 - opts.halo),
        y1: Math.min(height, interior.y1 + opts.halo),
        x0: Math.max(0, x0 - opts.halo),
        x1: Math.min(width, interior.x1 + opts.halo),
      };
      tiles.push({ interior, crop });
    }
  }
  const norms = opts.norms.map((c) => ({ mean: new Float32Array(c), variance: new Float32Array(c).fill(1) }));
  const feedsFor = (crop: Rect): Record<string, FloatTensor> => {
    const feeds: Record<string, FloatTensor> = { ...opts.constants, input: cropTensor(input, crop) };
    norms.forEach(({ mean, variance }, i) => {
      feeds[`norm${i}.mean`] = { data: mean, dims: [1, mean.length, 1, 1] };
      feeds[`norm${i}.var`] = { data: variance, dims: [1, variance.length, 1, 1] };
    });
    return feeds;
  };

  for (const [p, norm] of norms.entries()) {
    const channels = norm.mean.length;
    const sum = new Float64Array(channels);
    const squares = new Float64Array(channels);
    let count = 0;
    for (const { interior, crop } of tiles) {
      opts.check?.();
      const name = `norm${p}.pre`;
      const pre = must((await run(session, feedsFor(crop), [name]))[name], `output ${name}`);
      const [, , h, w] = nchw(pre);
      const inside = scaleRect(interior, crop, h / (crop.y1 - crop.y0));
      for (let c = 0; c < channels; c++) {
        let s = 0;
        let s2 = 0;
        for (let y = inside.y0; y < inside.y1; y++) {
          const row = (c * h + y) * w;
          for (let x = inside.x0; x < inside.x1; x++) {
            const v = pre.data[row + x]!;
            s += v;
            s2 += v * v;
          }
        }
        sum[c]! += s;
        squares[c]! += s2;
      }
      count += (inside.y1 - inside.y0) * (inside.x1 - inside.x0);
    }
    for (let c = 0; c < channels; c++) {
      const mean = sum[c]! / count;
      norm.mean[c] = mean;
      norm.variance[c] = Math.max(0, squares[c]! / count - mean * mean);
    }
  }

  let output: FloatTensor | undefined;
  for (const { interior, crop } of tiles) {
    opts.check?.();
    const out = must((await run(session, feedsFor(crop), ['output'])).output, 'output');
    const [, channels, h, w] = nchw(out);
    const ratio = h / (crop.y1 - crop.y0);
    output ??= {
      data: new Float32Array(channels * height * ratio * width * ratio),
      dims: [1, channels, height * ratio, width * ratio],
    };
    const inside = scaleRect(interior, crop, ratio);
    const target = scaleRect(interior, { y0: 0, y1: height, x0: 0, x1: width }, ratio);
    const [, , outH, outW] = nchw(output);
    for (let c = 0; c < channels; c++) {
      for (let y = inside.y0; y < inside.y1; y++) {
        const from = (c * h + y) * w;
        const to = (c * outH + target.y0 + (y - inside.y0)) * outW + target.x0;
        output.data.set(out.data.subarray(from + inside.x0, from + inside.x1), to);
      }
    }
  }
  if (!output) throw new Error('Cannot run a tiled graph on an empty image.');
  return output;
}

/**
 * A tiled graph cut into stages at its norms (trainer/export/graph-stages.ts), with a session per run of
 * stages, created on first use and kept until {@link StagedGraph.close}.
 */
export interface StagedGraph {
  readonly stages: GraphStages;
  session(
    from: number,
    to: number,
    outputs: readonly string[],
    sums?: string,
  ): Promise<{ session: OnnxSession; inputs: string[] }>;
  close(): Promise<void>;
}

/** Cuts a tiled graph's bytes into stages; no session is created until one is asked for. */
export function stagedGraph(bytes: Uint8Array, norms: number, options: SessionOptions = {}): StagedGraph {
  const stages = splitTiledGraph(bytes, norms);
  const sessions = new Map<string, Promise<{ session: OnnxSession; inputs: string[] }>>();
  return {
    stages,
    session(from, to, outputs, sums) {
      const key = `${from}:${to}:${outputs.join(',')}:${sums ?? ''}`;
      let entry = sessions.get(key);
      if (!entry) {
        const built = stages.build(from, to, outputs, sums);
        // Between two runs the main thread copies tiles; threads spinning meanwhile would only burn CPU.
        entry = createSession(built.bytes, { ...options, lowMemory: true, spinWait: false }).then((session) => ({
          session,
          inputs: built.inputs,
        }));
        entry.catch(() => sessions.delete(key));
        sessions.set(key, entry);
      }
      return entry;
    },
    async close() {
      const open = await Promise.allSettled(sessions.values());
      sessions.clear();
      await Promise.all(open.flatMap((s) => (s.status === 'fulfilled' ? [closeSession(s.value.session)] : [])));
    },
  };
}

/** How {@link runStaged} cuts the input. */
export interface StagedOptions {
  /** Interior side of a tile, in input pixels (a multiple of `align`). */
  tile: number;
  /** Tile corners and halos stay on multiples of this, so strided convs see the whole image's grid. */
  align: number;
  /**
   * The most memory kept between stages: the values a cut passes on, over the whole image. A state that
   * does not fit is kept for as many rows of tiles as fit, when no later stage but the next reads it,
   * and the other rows recompute it in the passes that follow; otherwise it is not kept at all.
   * @default 768 MiB
   */
  keepBytes?: number;
  /**
   * Take over `input`: its data is dropped (the tensor left empty, `dims` [0]) as soon as no pass reads
   * it any more, so its memory can be reclaimed while the run goes on even though the caller's frames
   * still hold the object. A 4096 px latent is 768 MiB; the decoder needs it only for its first pass.
   * @default false
   */
  consumeInput?: boolean;
  /** Whole-image inputs fed unchanged to every stage that reads them (the modulated decoder's style condition). */
  constants?: Readonly<Record<string, FloatTensor>>;
  /** Called between tiles; throws to stop (cancellation). */
  check?: () => void;
}

/**
 * The default {@link StagedOptions.keepBytes}. At 4096 px it keeps every state of a `small` package
 * that is worth keeping whole but one: the decoder's last upsampling output (1 GiB, kept for half of
 * the rows).
 */
export const DEFAULT_KEEP_BYTES = 768 * 1024 ** 2;

/**
 * A value between passes: the caller's input, whole, or a kept value stored by rows of tiles. Band r
 * holds the rows of tile row r and `halo` input pixels above and below it (all columns), so each tile
 * of row r finds everything it reads in band r, and a band can be let go as soon as the last pass that
 * reads it has finished that row of tiles.
 */
type Stored = { whole: FloatTensor } | { halo: number; bands: (FloatTensor | undefined)[] };

/** What one pass does in each row of tiles: the first stage it runs there and the halo that needs. */
export interface PassPlan {
  first: number[];
  halo: number[];
  /** Rows of tiles (the leading ones) that keep the state after this pass's cut. */
  keptRows: number;
}

/**
 * Keeping a state costs about as much per byte as 60 to 70 multiply-adds of onnxruntime's convolutions
 * (measured on a 2-core machine: fetching it from onnxruntime, copying it into its rows, slicing tiles
 * back out). A cut whose stages since the last kept one cost less than this per byte of its state is
 * recomputed rather than kept, unless keeping it frees memory: so the encoder's 7×7 stem on three
 * channels (37 per byte) and its 1×1 output layer (16), whose results are its two largest states, are
 * recomputed. The threshold sits below the measured rate so that residual blocks (72) stay kept.
 */
const KEEP_MACS_PER_BYTE = 48;

/**
 * Which cuts each row of tiles keeps. A cut is kept when keeping it is cheaper than recomputing it or
 * frees memory ({@link KEEP_MACS_PER_BYTE}), and then by every row when its state fits `keepBytes`.
 * One that does not fit is kept by the leading rows that fit when every row stands at the same cut and
 * the state is read only by the next stage (nothing in it is carried further, and nothing of the old
 * state is carried into it); so every later cut again finds the same values new in every row.
 */
export function planPasses(
  stages: GraphStages,
  size: { height: number; width: number; tile: number; align: number },
  keepBytes: number,
): PassPlan[] {
  const { height, width, align } = size;
  const rows = Math.ceil(height / size.tile);
  const pixels = height * width;
  const bytesOf = (values: readonly string[]): number =>
    values.reduce((n, v) => n + 4 * (stages.channels.get(v) ?? 0) * pixels * (stages.scale.get(v) ?? 1) ** 2, 0);
  const last = stages.stages.length - 1;
  const cutOf = new Array<number>(rows).fill(-1);
  const stateOf = (cut: number): readonly string[] =>
    cut < 0 ? [TILED_IO.input] : must(stages.carried[cut], `the state after cut ${cut}`);
  const plans: PassPlan[] = [];
  for (let p = 0; p <= last; p++) {
    const first = cutOf.map((cut) => cut + 1);
    const halo = first.map((f) => {
      let reach = 0;
      for (const stage of stages.stages.slice(f, p + 1)) reach += stage.reach;
      return Math.ceil(reach / align - 1e-9) * align;
    });
    let keptRows = 0;
    if (p < last) {
      const state = stateOf(p);
      const leadCut = must(cutOf[0], 'the cut of the first row of tiles');
      let macs = 0;
      for (const stage of stages.stages.slice(leadCut + 1, p + 1)) macs += stage.macs * pixels;
      const worth = bytesOf(state) <= bytesOf(stateOf(leadCut)) || macs >= KEEP_MACS_PER_BYTE * bytesOf(state);
      if (worth && bytesOf(state) <= keepBytes) {
        keptRows = rows;
      } else if (worth && cutOf.every((cut) => cut === leadCut)) {
        const old = stateOf(leadCut);
        const next = stateOf(p + 1);
        const alone = !state.some((v) => next.includes(v) || old.includes(v));
        // With k rows kept, the others still hold the old state: all of it when it is the input (one
        // array, held whole while any row reads it), the rest of its rows otherwise.
        const oldBytes = bytesOf(old);
        const perRow = (bytesOf(state) - (leadCut < 0 ? 0 : oldBytes)) / rows;
        const fits = Math.floor((keepBytes - oldBytes) / perRow);
        if (alone && perRow > 0) keptRows = Math.max(0, Math.min(rows - 1, fits));
      }
    }
    for (let r = 0; r < keptRows; r++) cutOf[r] = p;
    plans.push({ first, halo, keptRows });
  }
  return plans;
}

/**
 * Runs a staged graph on `input` [1, C, H, W] with exact whole-image instance-norm statistics, in
 * time linear in the pixels: pass p runs stages k+1..p over every tile, where k is the last cut whose
 * state was kept, accumulating norm p's statistics (float64, over each tile's interior) and, when the
 * state after cut p is worth keeping and fits (`keepBytes`), storing that state's interiors for the
 * next pass. So each costly stage normally runs once per tile, from the previous stage's result, with
 * a halo of only its own reach (a few pixels) instead of the whole network's; a cheap stage or a state
 * too large to keep costs a recomputation of the stages since the last kept one instead of its memory.
 * The final pass writes `output` whole.
 *
 * Tiles run row by row, and kept values are stored by rows of tiles (with the halo their readers need),
 * so a pass lets go of the rows of the state it reads as it goes while it fills the next state's: the
 * memory of a cut is about the larger of the two states, not their sum. A state too large for
 * `keepBytes` can be kept by its leading rows of tiles only (see {@link planPasses}), the others
 * recomputing it, so memory and time trade smoothly.
 *
 * The runner lets go of `input` once no row reads it. When memory matters, either hold no other
 * reference to it or pass `consumeInput`, which empties the caller's tensor at that point (and at the
 * latest when the run returns).
 */
export async function runStaged(graph: StagedGraph, input: FloatTensor, opts: StagedOptions): Promise<FloatTensor> {
  const { stages, carried, scale, channels } = graph.stages;
  const [, , height, width] = nchw(input);
  const { tile } = opts;
  if (tile % opts.align !== 0) throw new Error(`Tile (${tile}) must be a multiple of ${opts.align}.`);
  const tileRows: Rect[][] = [];
  for (let y0 = 0; y0 < height; y0 += tile) {
    const row: Rect[] = [];
    for (let x0 = 0; x0 < width; x0 += tile) {
      row.push({ y0, y1: Math.min(height, y0 + tile), x0, x1: Math.min(width, x0 + tile) });
    }
    tileRows.push(row);
  }
  const rows = tileRows.length;
  const whole: Rect = { y0: 0, y1: height, x0: 0, x1: width };
  const last = stages.length - 1;
  const plans = planPasses(
    graph.stages,
    { height, width, tile, align: opts.align },
    opts.keepBytes ?? DEFAULT_KEEP_BYTES,
  );

  // For each value a row's state holds: the widest halo any of its readers needs, and per row the last
  // pass that reads it there.
  const stateOf = (first: number): readonly string[] =>
    first === 0 ? [TILED_IO.input] : must(carried[first - 1], `the state after cut ${first - 1}`);
  const bandHalo = new Map<string, number>();
  const lastReader = new Map<string, number[]>();
  plans.forEach((plan, p) => {
    plan.first.forEach((first, r) => {
      const halo = must(plan.halo[r], `the halo of row ${r}`);
      for (const v of stateOf(first)) {
        bandHalo.set(v, Math.max(bandHalo.get(v) ?? 0, halo));
        if (!lastReader.has(v)) lastReader.set(v, new Array<number>(rows).fill(-1));
        (lastReader.get(v) as number[])[r] = p;
      }
    });
  });
  const inputDone = Math.max(...(lastReader.get(TILED_IO.input) ?? [-1]));
  /** Input rows [y0, y1) that band r of a value with this halo holds. */
  const bandRows = (r: number, rowsHalo: number): Rect => ({
    y0: Math.max(0, r * tile - rowsHalo),
    y1: Math.min(height, (r + 1) * tile + rowsHalo),
    x0: 0,
    x1: width,
  });

  const statistics = new Map<string, FloatTensor>(Object.entries(opts.constants ?? {}));
  const state = new Map<string, Stored>([[TILED_IO.input, { whole: { data: input.data, dims: input.dims } }]]);
  const given = opts.consumeInput ? input : undefined;
  const release = (): void => {
    state.delete(TILED_IO.input);
    if (!given) return;
    given.data = EMPTY.data;
    given.dims = [0];
  };
  input = EMPTY;
  let output: FloatTensor | undefined;
  for (const [p, plan] of plans.entries()) {
    const stage = must(stages[p], `stage ${p}`);
    // A norm's input is published as an Identity of a value the next stage reads: fetch that value once.
    const target = p < last ? graph.stages.source(stage.target) : stage.target;
    // The rows that keep this cut store what their state lacks; the planner makes that the same in every
    // row. Rows just below them compute it too and hand over the rows of their halos.
    const kept = plan.keptRows > 0 ? must(carried[p], `the state after cut ${p}`) : [];
    const held = kept.length > 0 ? stateOf(must(plan.first[0], 'the first stage of row 0')) : [];
    const fresh = kept.filter((v) => !held.includes(v));
    for (const v of fresh) state.set(v, { halo: bandHalo.get(v) ?? 0, bands: tileRows.map(() => undefined) });
    const spread = Math.max(0, ...fresh.map((v) => Math.ceil((bandHalo.get(v) ?? 0) / tile)));
    const channelsOfTarget = channels.get(target) ?? 0;
    const sum = new Float64Array(channelsOfTarget);
    const squares = new Float64Array(channelsOfTarget);
    let count = 0;
    for (const [r, row] of tileRows.entries()) {
      // The statistics' sums come from onnxruntime; the target itself is fetched only when it is kept.
      const outputs = p === last ? [target] : r < plan.keptRows + spread ? fresh : [];
      const sums = p < last ? target : undefined;
      const first = must(plan.first[r], `the first stage of row ${r}`);
      const { session, inputs } = await graph.session(first, p, outputs, sums);
      const halo = must(plan.halo[r], `the halo of row ${r}`);
      for (const interior of row) {
        opts.check?.();
        const crop = {
          y0: Math.max(0, interior.y0 - halo),
          y1: Math.min(height, interior.y1 + halo),
          x0: Math.max(0, interior.x0 - halo),
          x1: Math.min(width, interior.x1 + halo),
        };
        const feeds: Record<string, FloatTensor> = {};
        if (sums !== undefined) feeds[`${sums}.window`] = windowOf(scaleRect(interior, crop, scale.get(target) ?? 1));
        for (const name of inputs) {
          if (name === `${sums}.window` || (name.endsWith('.crop') && state.has(name.slice(0, -'.crop'.length)))) {
            continue;
          }
          const stored = state.get(name);
          if (!stored) {
            const value = statistics.get(name);
            if (!value) throw new Error(`No value for "${name}" before stage ${p}.`);
            feeds[name] = value;
            continue;
          }
          // Whole values and bands go to onnxruntime as they are, with the tile's window in them; it
          // slices the tile out.
          const ratio = scale.get(name) ?? 1;
          if ('whole' in stored) {
            feeds[name] = stored.whole;
            feeds[`${name}.crop`] = windowOf(scaleRect(crop, ORIGIN, ratio));
          } else {
            const band = stored.bands[r];
            if (!band) throw new Error(`Row ${r} of "${name}" is gone before stage ${p}.`);
            feeds[name] = band;
            feeds[`${name}.crop`] = windowOf(scaleRect(crop, bandRows(r, stored.halo), ratio));
          }
        }
        const fetches = sums === undefined ? outputs : [...outputs, `${sums}.sum`, `${sums}.squares`];
        const results = await run(session, feeds, fetches);
        if (sums !== undefined) {
          const s = must(results[`${sums}.sum`], `output ${sums}.sum`).data;
          const s2 = must(results[`${sums}.squares`], `output ${sums}.squares`).data;
          for (let c = 0; c < channelsOfTarget; c++) {
            sum[c]! += s[c]!;
            squares[c]! += s2[c]!;
          }
          const inside = scaleRect(interior, crop, scale.get(target) ?? 1);
          count += (inside.y1 - inside.y0) * (inside.x1 - inside.x0);
        }
        for (const name of outputs) {
          const out = must(results[name], `output ${name}`);
          const outChannels = must(out.dims[1], `the channels of ${name}`);
          const ratio = scale.get(name) ?? 1;
          if (p === last) {
            output ??= emptyLike(outChannels, height * ratio, width * ratio);
            pasteInterior(out, scaleRect(interior, crop, ratio), output, scaleRect(interior, whole, ratio));
            continue;
          }
          // The interior goes to its own row's band, and its edge rows to the halos of the bands around.
          const value = state.get(name) as { halo: number; bands: (FloatTensor | undefined)[] };
          const reach = Math.ceil(value.halo / tile);
          for (let b = Math.max(0, r - reach); b <= Math.min(plan.keptRows - 1, r + reach); b++) {
            const held = bandRows(b, value.halo);
            const part = { ...interior, y0: Math.max(interior.y0, held.y0), y1: Math.min(interior.y1, held.y1) };
            if (part.y0 >= part.y1) continue;
            const band = (value.bands[b] ??= emptyLike(outChannels, (held.y1 - held.y0) * ratio, width * ratio));
            pasteInterior(out, scaleRect(part, crop, ratio), band, scaleRect(part, held, ratio));
          }
        }
      }
      // Rows that no later pass reads are let go as soon as this row of tiles is done.
      for (const [name, stored] of state) {
        if ('bands' in stored && lastReader.get(name)?.[r] === p) stored.bands[r] = undefined;
      }
    }
    if (p < last) {
      const mean = new Float32Array(channelsOfTarget);
      const variance = new Float32Array(channelsOfTarget);
      for (let c = 0; c < channelsOfTarget; c++) {
        mean[c] = sum[c]! / count;
        variance[c] = Math.max(0, squares[c]! / count - (sum[c]! / count) ** 2);
      }
      const prefix = stage.target.replace(/\.pre$/, '');
      statistics.set(`${prefix}.mean`, { data: mean, dims: [1, channelsOfTarget, 1, 1] });
      statistics.set(`${prefix}.var`, { data: variance, dims: [1, channelsOfTarget, 1, 1] });
    }
    if (p === inputDone) release();
  }
  if (!output) throw new Error('Cannot run a tiled graph on an empty image.');
  release();
  return output;
}

const EMPTY: FloatTensor = { data: new Float32Array(0), dims: [0] };

/** A rectangle as the [y0, x0, y1, x1] window input of a staged graph. */
function windowOf(r: Rect): FloatTensor {
  return { data: Float32Array.of(r.y0, r.x0, r.y1, r.x1), dims: [4] };
}
const ORIGIN: Rect = { y0: 0, y1: 0, x0: 0, x1: 0 };

function emptyLike(channels: number, height: number, width: number): FloatTensor {
  return { data: new Float32Array(channels * height * width), dims: [1, channels, height, width] };
}

/** Copies `inside` of the tile output `from` to `target` of the whole-image tensor `to`. */
function pasteInterior(from: FloatTensor, inside: Rect, to: FloatTensor, target: Rect): void {
  const [, channels, h, w] = nchw(from);
  const [, , outH, outW] = nchw(to);
  for (let c = 0; c < channels; c++) {
    for (let y = inside.y0; y < inside.y1; y++) {
      const at = (c * h + y) * w;
      to.data.set(
        from.data.subarray(at + inside.x0, at + inside.x1),
        (c * outH + target.y0 + y - inside.y0) * outW + target.x0,
      );
    }
  }
}

/** Channel layout of a latent: content, then global style, then local style. */
export interface LatentLayout {
  content: number;
  globalStyle: number;
  total: number;
}

/**
 * Raw latent [1, C, h, w] → latent: the global-style channels replaced, at every position, by the
 * vector the global-style graph computes from them. Done in place on `raw`, which is returned.
 *
 * The graph takes only the global-style channels and returns only the vector, so at 4096 px it sees a
 * third of the ~800 MB latent (a view, not a copy) and returns 4·ngf numbers; the broadcast is written
 * here. Packages exported before that form have a graph from the whole raw latent to the whole latent;
 * those still run, whole, at the old cost.
 */
export async function applyGlobalStyle(
  session: OnnxSession,
  raw: FloatTensor,
  layout: LatentLayout,
): Promise<FloatTensor> {
  const [batch, channels, h, w] = raw.dims;
  if (batch !== 1 || channels !== layout.total || h === undefined || w === undefined) {
    throw new Error(`Expected a raw latent [1, ${layout.total}, h, w], got [${raw.dims.join(', ')}].`);
  }
  if (session.outputNames.includes(ENCODER_IO.latent)) {
    return must((await run(session, { [inputOf(session)]: raw }))[ENCODER_IO.latent], 'the latent');
  }
  const plane = h * w;
  const from = layout.content * plane;
  const to = from + layout.globalStyle * plane;
  const zGlobal: FloatTensor = { data: raw.data.subarray(from, to), dims: [1, layout.globalStyle, h, w] };
  const output = must(session.outputNames[0], 'the global-style output');
  const vector = must((await run(session, { [inputOf(session)]: zGlobal }))[output], output); // [1, G, 1, 1]
  for (let c = 0; c < layout.globalStyle; c++) raw.data.fill(vector.data[c]!, from + c * plane, from + (c + 1) * plane);
  return raw;
}

/** The global-style graph's one input. */
function inputOf(session: OnnxSession): string {
  return must(session.inputNames[0], 'the global-style input');
}

/** The interior relative to the crop, at a layer whose pixels are `ratio` per input pixel. */
function scaleRect(interior: Rect, crop: Rect, ratio: number): Rect {
  return {
    y0: Math.round((interior.y0 - crop.y0) * ratio),
    y1: Math.round((interior.y1 - crop.y0) * ratio),
    x0: Math.round((interior.x0 - crop.x0) * ratio),
    x1: Math.round((interior.x1 - crop.x0) * ratio),
  };
}

/** Copies the rectangle out of [1, C, H, W]. */
function cropTensor(t: FloatTensor, r: Rect): FloatTensor {
  const [, channels, height, width] = nchw(t);
  if (r.y0 === 0 && r.x0 === 0 && r.y1 === height && r.x1 === width) return t;
  const h = r.y1 - r.y0;
  const w = r.x1 - r.x0;
  const data = new Float32Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      const from = (c * height + r.y0 + y) * width + r.x0;
      data.set(t.data.subarray(from, from + w), (c * h + y) * w);
    }
  }
  return { data, dims: [1, channels, h, w] };
}
