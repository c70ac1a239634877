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
 * The global-style graph then turns the raw latent into the latent ({@link applyGlobalStyle}).
 */
import { splitTiledGraph, type GraphStages } from '../../trainer/export/graph-stages';
import { ENCODER_IO, TILED_IO } from '../../trainer/export/package-format';
import {
  closeSession,
  createSession,
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
  const [, , height, width] = input.dims;
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
  const means: Float32Array[] = opts.norms.map((c) => new Float32Array(c));
  const variances: Float32Array[] = opts.norms.map((c) => new Float32Array(c).fill(1));
  const feedsFor = (crop: Rect): Record<string, FloatTensor> => {
    const feeds: Record<string, FloatTensor> = { input: cropTensor(input, crop) };
    opts.norms.forEach((c, i) => {
      feeds[`norm${i}.mean`] = { data: means[i], dims: [1, c, 1, 1] };
      feeds[`norm${i}.var`] = { data: variances[i], dims: [1, c, 1, 1] };
    });
    return feeds;
  };

  for (let p = 0; p < opts.norms.length; p++) {
    const channels = opts.norms[p];
    const sum = new Float64Array(channels);
    const squares = new Float64Array(channels);
    let count = 0;
    for (const { interior, crop } of tiles) {
      opts.check?.();
      const name = `norm${p}.pre`;
      const pre = (await run(session, feedsFor(crop), [name]))[name];
      const inside = scaleRect(interior, crop, pre.dims[2] / (crop.y1 - crop.y0));
      const [, , h, w] = pre.dims;
      for (let c = 0; c < channels; c++) {
        let s = 0;
        let s2 = 0;
        for (let y = inside.y0; y < inside.y1; y++) {
          const row = (c * h + y) * w;
          for (let x = inside.x0; x < inside.x1; x++) {
            const v = pre.data[row + x];
            s += v;
            s2 += v * v;
          }
        }
        sum[c] += s;
        squares[c] += s2;
      }
      count += (inside.y1 - inside.y0) * (inside.x1 - inside.x0);
    }
    for (let c = 0; c < channels; c++) {
      const mean = sum[c] / count;
      means[p][c] = mean;
      variances[p][c] = Math.max(0, squares[c] / count - mean * mean);
    }
  }

  let output: FloatTensor | undefined;
  for (const { interior, crop } of tiles) {
    opts.check?.();
    const out = (await run(session, feedsFor(crop), ['output'])).output;
    const ratio = out.dims[2] / (crop.y1 - crop.y0);
    const [, channels, h, w] = out.dims;
    output ??= {
      data: new Float32Array(channels * height * ratio * width * ratio),
      dims: [1, channels, height * ratio, width * ratio],
    };
    const inside = scaleRect(interior, crop, ratio);
    const target = scaleRect(interior, { y0: 0, y1: height, x0: 0, x1: width }, ratio);
    const [, , outH, outW] = output.dims;
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
   * The largest state (all values a cut passes on, over the whole image) kept between stages. A larger
   * state is not kept: the next pass recomputes it from the last kept one. @default 640 MiB
   */
  keepBytes?: number;
  /**
   * Take over `input`: its data is dropped (the tensor left empty, `dims` [0]) as soon as no pass reads
   * it any more, so its memory can be reclaimed while the run goes on even though the caller's frames
   * still hold the object. A 4096 px latent is 768 MiB; the decoder needs it only for its first pass.
   * @default false
   */
  consumeInput?: boolean;
  /** Called between tiles; throws to stop (cancellation). */
  check?: () => void;
}

/**
 * Runs a staged graph on `input` [1, C, H, W] with exact whole-image instance-norm statistics, in
 * time linear in the pixels: pass p runs stages k+1..p over every tile, where k is the last cut whose
 * state was kept, accumulating norm p's statistics (float64, over each tile's interior) and, when the
 * state after cut p is small enough (`keepBytes`), writing that state's interiors into whole-image
 * arrays for the next pass. So each stage normally runs once per tile, from the previous stage's
 * result, with a halo of only its own reach (a few pixels) instead of the whole network's; a state too
 * large to keep (a full-resolution activation at 4096 px) costs a recomputation of the stages since
 * the last kept one instead of its memory. The final pass writes `output` whole.
 *
 * The runner lets go of `input` once a state without it is kept. When memory matters, either hold no
 * other reference to it or pass `consumeInput`, which empties the caller's tensor at that point (and
 * at the latest when the run returns).
 */
export async function runStaged(graph: StagedGraph, input: FloatTensor, opts: StagedOptions): Promise<FloatTensor> {
  const { stages, carried, scale, channels } = graph.stages;
  const [, , height, width] = input.dims;
  if (opts.tile % opts.align !== 0) throw new Error(`Tile (${opts.tile}) must be a multiple of ${opts.align}.`);
  const keepBytes = opts.keepBytes ?? 640 * 1024 * 1024;
  const tiles: Rect[] = [];
  for (let y0 = 0; y0 < height; y0 += opts.tile) {
    for (let x0 = 0; x0 < width; x0 += opts.tile) {
      tiles.push({ y0, y1: Math.min(height, y0 + opts.tile), x0, x1: Math.min(width, x0 + opts.tile) });
    }
  }
  const whole: Rect = { y0: 0, y1: height, x0: 0, x1: width };
  const stateBytes = (values: readonly string[]): number =>
    values.reduce((n, v) => n + 4 * (channels.get(v) ?? 0) * height * width * (scale.get(v) ?? 1) ** 2, 0);
  const statistics = new Map<string, FloatTensor>();
  // The state holds the input's data from here on, and lets go of it once a later state is kept.
  let state = new Map<string, FloatTensor>([[TILED_IO.input, { data: input.data, dims: input.dims }]]);
  const given = opts.consumeInput ? input : undefined;
  const release = (): void => {
    if (!given) return;
    given.data = EMPTY.data;
    given.dims = [0];
  };
  input = EMPTY;
  let keptCut = -1;
  let output: FloatTensor | undefined;
  const last = stages.length - 1;
  for (let p = 0; p <= last; p++) {
    // A norm's input is published as an Identity of a value the next stage reads: fetch that value once.
    const target = p < last ? graph.stages.source(stages[p].target) : stages[p].target;
    const keep = p < last && stateBytes(carried[p]) <= keepBytes;
    const fresh = keep ? carried[p].filter((v) => !state.has(v)) : [];
    // The statistics' sums come from onnxruntime; the target itself is fetched only when it is kept.
    const outputs = p < last ? fresh : [target];
    const sums = p < last ? target : undefined;
    const { session, inputs } = await graph.session(keptCut + 1, p, outputs, sums);
    let reach = 0;
    for (let s = keptCut + 1; s <= p; s++) reach += stages[s].reach;
    const halo = Math.ceil(reach / opts.align - 1e-9) * opts.align;
    const next = new Map<string, FloatTensor>();
    const channelsOfTarget = channels.get(target) ?? 0;
    const sum = new Float64Array(channelsOfTarget);
    const squares = new Float64Array(channelsOfTarget);
    let count = 0;
    for (const interior of tiles) {
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
        if (name === `${sums}.window` || (name.endsWith('.crop') && state.has(name.slice(0, -'.crop'.length))))
          continue;
        const value = state.get(name) ?? statistics.get(name);
        if (!value) throw new Error(`No value for "${name}" before stage ${p}.`);
        // Whole values go to onnxruntime as they are, with the tile's window; it slices the tile out.
        feeds[name] = value;
        if (state.has(name)) feeds[`${name}.crop`] = windowOf(scaleRect(crop, ORIGIN, scale.get(name) ?? 1));
      }
      const fetches = sums === undefined ? outputs : [...outputs, `${sums}.sum`, `${sums}.squares`];
      const results = await run(session, feeds, fetches);
      if (sums !== undefined) {
        const s = results[`${sums}.sum`].data;
        const s2 = results[`${sums}.squares`].data;
        for (let c = 0; c < channelsOfTarget; c++) {
          sum[c] += s[c];
          squares[c] += s2[c];
        }
        const inside = scaleRect(interior, crop, scale.get(target) ?? 1);
        count += (inside.y1 - inside.y0) * (inside.x1 - inside.x0);
      }
      for (const name of outputs) {
        const out = results[name];
        const ratio = scale.get(name) ?? 1;
        const inside = scaleRect(interior, crop, ratio);
        if (name === target && p === last) {
          output ??= emptyLike(out.dims[1], height * ratio, width * ratio);
          pasteInterior(out, inside, output, scaleRect(interior, whole, ratio));
        } else if (keep && fresh.includes(name)) {
          let into = next.get(name);
          if (!into) next.set(name, (into = emptyLike(out.dims[1], height * ratio, width * ratio)));
          pasteInterior(out, inside, into, scaleRect(interior, whole, ratio));
        }
      }
    }
    if (p < last) {
      const mean = new Float32Array(channelsOfTarget);
      const variance = new Float32Array(channelsOfTarget);
      for (let c = 0; c < channelsOfTarget; c++) {
        mean[c] = sum[c] / count;
        variance[c] = Math.max(0, squares[c] / count - (sum[c] / count) ** 2);
      }
      const prefix = stages[p].target.replace(/\.pre$/, '');
      statistics.set(`${prefix}.mean`, { data: mean, dims: [1, channelsOfTarget, 1, 1] });
      statistics.set(`${prefix}.var`, { data: variance, dims: [1, channelsOfTarget, 1, 1] });
    }
    if (keep) {
      for (const v of carried[p]) if (!next.has(v)) next.set(v, state.get(v) as FloatTensor);
      state = next; // the previous state's arrays are released here
      keptCut = p;
      if (!state.has(TILED_IO.input)) release();
    }
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
  const [, channels, h, w] = from.dims;
  const [, , outH, outW] = to.dims;
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
  if (batch !== 1 || channels !== layout.total) {
    throw new Error(`Expected a raw latent [1, ${layout.total}, h, w], got [${raw.dims.join(', ')}].`);
  }
  if (session.outputNames.includes(ENCODER_IO.latent)) {
    return (await run(session, { [session.inputNames[0]]: raw }))[ENCODER_IO.latent];
  }
  const plane = h * w;
  const from = layout.content * plane;
  const to = from + layout.globalStyle * plane;
  const zGlobal: FloatTensor = { data: raw.data.subarray(from, to), dims: [1, layout.globalStyle, h, w] };
  const vector = (await run(session, { [session.inputNames[0]]: zGlobal }))[session.outputNames[0]]; // [1, G, 1, 1]
  for (let c = 0; c < layout.globalStyle; c++) raw.data.fill(vector.data[c], from + c * plane, from + (c + 1) * plane);
  return raw;
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
  const [, channels, height, width] = t.dims;
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
