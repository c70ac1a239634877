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
import { ENCODER_IO } from '../../trainer/export/package';
import { run, type FloatTensor, type OnnxSession } from './onnx-session';

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
