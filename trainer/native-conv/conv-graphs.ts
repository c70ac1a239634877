/**
 * One-node-at-heart ONNX graphs for the three convolution kernels of training, in TF.js's layouts, so
 * that onnxruntime's native convolutions (MLAS) can stand in for the wasm ones (see ./native-conv-kernels).
 *
 * Every graph takes and returns TF.js layouts (images NHWC, filters [kh, kw, Cin, Cout]) and does the
 * layout changes itself: onnxruntime's transposes run natively, and the caller hands over the tensors'
 * buffers as they are. Shapes are fixed per graph; the kernels keep one session per shape.
 *
 * - forward: dy = conv(x, W). NHWC → NCHW, Conv, NCHW → NHWC.
 * - input gradient (also the forward pass of a transposed convolution): dx = convT(dy, W). ConvTranspose
 *   with the forward padding at the start; at the end, where the forward convolution may have left the
 *   last r = (H + top + bottom − kh) mod s rows unread, the end padding shrinks by r, or an
 *   output_padding adds the rows it cannot (their gradient is zero).
 * - filter gradient: dW[a, b, c, o] = Σ x_padded[n, i·s + a, j·s + b, c] · dy[n, i, j, o], an im2col
 *   product with a long inner dimension (N·Ho·Wo), which the native GEMM runs at full speed. One slice
 *   of the padded image per tap (a, b); the slices are stacked in the filter's own (a, b, c) order and
 *   multiplied by dy as [N·Ho·Wo, Cout]. At stride 1 the image is first made channel-planar
 *   ([Cin, N, H, W]), so that each slice copies whole rows and the stack is already the product's left
 *   operand [kh·kw·Cin, N·Ho·Wo]; strided slices gather single elements either way, and there the
 *   slices stay NHWC, stacked along channels, and a Gemm takes the stack transposed. Measured per
 *   layer on one thread (3×3, batch 1): 16→16 at 128 px 15.2 GFLOP/s planar against 10.7 NHWC,
 *   32→32 at 64 px 30.9 against 25.2, 64→64 at 32 px 41.2 against 38.9; 4×4 16→32 at stride 2
 *   21.6 NHWC against 13.2 planar.
 */
import { GraphBuilder, attr } from '../export/graph-builder';

/** Padding on each side of the two spatial axes. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** What every graph needs: the forward convolution's geometry. */
export interface ConvGeometry {
  /** Forward input [N, H, W, Cin]. */
  inShape: readonly [number, number, number, number];
  /** Filter [kh, kw, Cin, Cout]. */
  filterShape: readonly [number, number, number, number];
  /** Forward output height and width. */
  outHeight: number;
  outWidth: number;
  strides: readonly [number, number];
  dilations: readonly [number, number];
  pads: Pads;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/**
 * [kh, kw, Cin, Cout] → [Cout, Cin, kh, kw]: the weight of Conv (output, input channels) and, the same
 * array, of the ConvTranspose that is its input gradient (its input Cout, its output Cin).
 */
const HWIO_TO_ONNX = [3, 2, 0, 1];

/** Graph input and output names, shared with the kernels that feed them. */
export const GRAPH_IO = { x: 'x', dy: 'dy', filter: 'filter', out: 'out' } as const;

/** y = conv(x, W), NHWC in and out. */
export function forwardConvGraph(g: ConvGeometry): Uint8Array {
  const n = g.inShape[0];
  const [kh, kw, , cout] = g.filterShape;
  const b = new GraphBuilder('conv2d');
  const x = b.input(GRAPH_IO.x, g.inShape);
  const filter = b.input(GRAPH_IO.filter, g.filterShape);
  const xNchw = b.op('Transpose', [x], { perm: attr.ints(NHWC_TO_NCHW) });
  const w = b.op('Transpose', [filter], { perm: attr.ints(HWIO_TO_ONNX) });
  const y = b.op('Conv', [xNchw, w], {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([...g.strides]),
    dilations: attr.ints([...g.dilations]),
    pads: attr.ints([g.pads.top, g.pads.left, g.pads.bottom, g.pads.right]),
  });
  b.output(b.op('Transpose', [y], { perm: attr.ints(NCHW_TO_NHWC) }), [n, g.outHeight, g.outWidth, cout], GRAPH_IO.out);
  return b.toBytes();
}

/** End padding and output padding of one axis of the input gradient (see the module comment). */
export function transposeAxisPads(
  size: number,
  k: number,
  stride: number,
  dilation: number,
  start: number,
  end: number,
  out: number,
): { end: number; outputPadding: number } {
  const reach = stride * (out - 1) + dilation * (k - 1) + 1; // padded rows the forward convolution read
  const unread = size + start + end - reach; // r: rows at the end it never read
  return unread <= end ? { end: end - unread, outputPadding: 0 } : { end: 0, outputPadding: unread - end };
}

/** dx = the input gradient of conv(x, W) given dy, NHWC in and out. */
export function inputGradientGraph(g: ConvGeometry): Uint8Array {
  const [n, h, w, cin] = g.inShape;
  const [kh, kw, , cout] = g.filterShape;
  const rows = transposeAxisPads(h, kh, g.strides[0], g.dilations[0], g.pads.top, g.pads.bottom, g.outHeight);
  const cols = transposeAxisPads(w, kw, g.strides[1], g.dilations[1], g.pads.left, g.pads.right, g.outWidth);
  const b = new GraphBuilder('conv2d_backprop_input');
  const dy = b.input(GRAPH_IO.dy, [n, g.outHeight, g.outWidth, cout]);
  const filter = b.input(GRAPH_IO.filter, g.filterShape);
  const dyNchw = b.op('Transpose', [dy], { perm: attr.ints(NHWC_TO_NCHW) });
  const wT = b.op('Transpose', [filter], { perm: attr.ints(HWIO_TO_ONNX) });
  const dx = b.op('ConvTranspose', [dyNchw, wT], {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([...g.strides]),
    dilations: attr.ints([...g.dilations]),
    pads: attr.ints([g.pads.top, g.pads.left, rows.end, cols.end]),
    output_padding: attr.ints([rows.outputPadding, cols.outputPadding]),
  });
  b.output(b.op('Transpose', [dx], { perm: attr.ints(NCHW_TO_NHWC) }), [n, h, w, cin], GRAPH_IO.out);
  return b.toBytes();
}

/** dW = the filter gradient of conv(x, W) given x and dy; [kh, kw, Cin, Cout]. Dilation 1 only, as TF.js. */
export function filterGradientGraph(g: ConvGeometry): Uint8Array {
  const [n, , , cin] = g.inShape;
  const [kh, kw, , cout] = g.filterShape;
  const [sh, sw] = g.strides;
  const { top, bottom, left, right } = g.pads;
  const ho = g.outHeight;
  const wo = g.outWidth;
  const planar = sh === 1 && sw === 1;
  const b = new GraphBuilder('conv2d_backprop_filter');
  const x = b.input(GRAPH_IO.x, g.inShape);
  const dy = b.input(GRAPH_IO.dy, [n, ho, wo, cout]);
  // Planar: [Cin, N, H, W], spatial axes 2 and 3; else NHWC, spatial axes 1 and 2.
  const image = planar ? b.op('Transpose', [x], { perm: attr.ints([3, 0, 1, 2]) }) : x;
  const [rowAxis, colAxis] = planar ? [2, 3] : [1, 2];
  let padded = image;
  if (top + bottom + left + right > 0) {
    const begin = [0, 0, 0, 0];
    const end = [0, 0, 0, 0];
    begin[rowAxis] = top;
    begin[colAxis] = left;
    end[rowAxis] = bottom;
    end[colAxis] = right;
    padded = b.op('Pad', [image, b.int64Initializer('pads', [8], [...begin, ...end])]);
  }
  const axes = b.int64Initializer('axes', [2], [rowAxis, colAxis]);
  const steps = b.int64Initializer('steps', [2], [sh, sw]);
  const taps: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let c = 0; c < kw; c++) {
      const starts = b.int64Initializer(`starts_${a}_${c}`, [2], [a, c]);
      const ends = b.int64Initializer(`ends_${a}_${c}`, [2], [a + sh * (ho - 1) + 1, c + sw * (wo - 1) + 1]);
      taps.push(b.op('Slice', [padded, starts, ends, axes, steps])); // [Cin, N, Ho, Wo] or [N, Ho, Wo, Cin]
    }
  }
  const stack = taps.length === 1 ? taps[0]! : b.op('Concat', taps, { axis: attr.int(planar ? 0 : 3) });
  const dyRows = b.op('Reshape', [dy, b.int64Initializer('dy_shape', [2], [n * ho * wo, cout])]);
  const product = planar
    ? b.op('MatMul', [
        b.op('Reshape', [stack, b.int64Initializer('stack_shape', [2], [kh * kw * cin, n * ho * wo])]),
        dyRows,
      ])
    : b.op(
        'Gemm',
        [b.op('Reshape', [stack, b.int64Initializer('stack_shape', [2], [n * ho * wo, kh * kw * cin])]), dyRows],
        {
          transA: attr.int(1),
        },
      );
  const filterShape = b.int64Initializer('filter_shape', [4], [kh, kw, cin, cout]);
  b.output(b.op('Reshape', [product, filterShape]), [kh, kw, cin, cout], GRAPH_IO.out);
  return b.toBytes();
}
