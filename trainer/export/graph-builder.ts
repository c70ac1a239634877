/**
 * A small builder for ONNX graphs: graph inputs and outputs, initializers, and nodes with typed
 * attributes, assembled into a ModelProto and encoded to bytes.
 *
 * It exists so that the layer emitter (layers-to-onnx.ts) can speak in operators and tensors rather
 * than protobuf fields, and so that mistakes surface when the graph is built, with the name of the
 * offending tensor, instead of as an opaque load failure inside onnxruntime later: every initializer's
 * data length is checked against its dims, every node input must already exist, and every name is
 * unique (hints that collide get a numeric suffix).
 */
import {
  AttributeType,
  DataType,
  encodeModel,
  IR_VERSION,
  type AttributeMessage,
  type DataTypeCode,
  type ModelMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './onnx-proto';

/** The opset the exporter targets: supported by onnxruntime 1.14 and later, on CPU and CUDA alike. */
export const DEFAULT_OPSET = 17;

/** A dimension: a fixed size, or a symbolic name (`'batch'`, `'height'`) left free at run time. */
export type Dim = number | string;

/** An operator attribute with its ONNX type made explicit, since JavaScript cannot tell 2 from 2.0. */
export type AttributeValue =
  | { type: 'int'; value: number }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'float'; value: number }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: readonly string[] };

/** Constructors for {@link AttributeValue}s: `{ axes: attr.ints([2, 3]), keepdims: attr.int(1) }`. */
export const attr = {
  int: (value: number): AttributeValue => ({ type: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'ints', value }),
  float: (value: number): AttributeValue => ({ type: 'float', value }),
  floats: (value: readonly number[]): AttributeValue => ({ type: 'floats', value }),
  string: (value: string): AttributeValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): AttributeValue => ({ type: 'strings', value }),
};

/** Model-level metadata written by {@link GraphBuilder.toModel}. */
export interface ModelOptions {
  /** Default-domain opset version. @default 17 */
  opset?: number;
  /** @default 'peerstyle' */
  producerName?: string;
  /** Free text stored in the model (for example the preset and checkpoint it came from). */
  docString?: string;
}

/** Raised when a graph is assembled inconsistently; the message names the tensor or node at fault. */
/** `N` output names: a tuple of that length when `N` is a literal, an array otherwise. */
export type OutputNames<N extends number, Names extends string[] = []> = number extends N
  ? string[]
  : Names['length'] extends N
    ? Names
    : OutputNames<N, [...Names, string]>;

export class GraphBuildError extends Error {
  override name = 'GraphBuildError';
}

/** Accumulates one ONNX graph. Values are referred to by name; every method that creates one returns it. */
export class GraphBuilder {
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly nodes: NodeMessage[] = [];

  /** @param name - the graph's name, stored in the model */
  constructor(readonly name: string) {}

  /** Declares a float32 graph input under exactly `name`. */
  input(name: string, dims: readonly Dim[]): string {
    this.claim(name, 'graph input');
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /**
   * Declares `value` as a float32 graph output. With `name`, the output is published under that exact
   * name (through an Identity node when the value is called something else).
   */
  output(value: string, dims: readonly Dim[], name: string = value): string {
    this.requireValue(value, `graph output "${name}"`);
    if (name !== value) {
      this.claim(name, 'graph output');
      this.nodes.push({ name: this.nodeName('Identity'), opType: 'Identity', input: [value], output: [name] });
    }
    if (this.outputs.some((o) => o.name === name))
      throw new GraphBuildError(`Graph output "${name}" is declared twice.`);
    this.outputs.push(valueInfo(name, dims));
    return name;
  }

  /**
   * Adds a float32 constant.
   *
   * @param hint - preferred name; a suffix is added if it is taken
   * @throws GraphBuildError when `data.length` differs from the product of `dims`
   */
  floatInitializer(hint: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    checkSize(hint, dims, data.length);
    // Copy first: the caller may reuse its array, and arrays from another realm copy just as well.
    const values = Float32Array.from(data);
    return this.addInitializer(hint, dims, DataType.FLOAT, littleEndianBytes(values));
  }

  /** Adds an int64 constant (shapes, pads and axes given as inputs). Values must be safe integers. */
  int64Initializer(hint: string, dims: readonly number[], values: readonly number[]): string {
    checkSize(hint, dims, values.length);
    const wide = new BigInt64Array(values.length);
    values.forEach((v, i) => {
      if (!Number.isSafeInteger(v))
        throw new GraphBuildError(`Initializer "${hint}" holds ${v}, which is not an integer.`);
      wide[i] = BigInt(v);
    });
    return this.addInitializer(hint, dims, DataType.INT64, littleEndianBytes(wide));
  }

  /**
   * Appends a node. Inputs must be graph inputs, initializers or outputs of earlier nodes (an empty
   * string skips an optional input), which keeps the node list in topological order.
   *
   * @returns the names of the node's outputs, derived from `hint`: a tuple of `outputs` names when that
   * count is a literal, so that each name destructures as a string
   */
  node<N extends number = 1>(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    options: { hint?: string; outputs?: N } = {},
  ): OutputNames<N> {
    const nodeName = this.nodeName(options.hint ?? opType);
    for (const input of inputs) {
      if (input !== '') this.requireValue(input, `node "${nodeName}" (${opType})`);
    }
    const count = options.outputs ?? 1;
    const outputs = Array.from({ length: count }, (_, i) => this.fresh(count === 1 ? nodeName : `${nodeName}.out${i}`));
    this.nodes.push({
      name: nodeName,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs as OutputNames<N>;
  }

  /** {@link node} for the common single-output case. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    hint?: string,
  ): string {
    return this.node(opType, inputs, attributes, { hint })[0];
  }

  /** Number of nodes so far (useful to assert what an emitter produced). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The op types of the nodes so far, in order. */
  opTypes(): string[] {
    return this.nodes.map((n) => n.opType ?? '');
  }

  /** Assembles the model message. */
  toModel(options: ModelOptions = {}): ModelMessage {
    if (this.outputs.length === 0) throw new GraphBuildError(`Graph "${this.name}" has no outputs.`);
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: options.opset ?? DEFAULT_OPSET }],
      producerName: options.producerName ?? 'peerstyle',
      docString: options.docString,
      graph: {
        name: this.name,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
        node: this.nodes,
      },
    };
  }

  /** Assembles and encodes the model: the contents of an `.onnx` file. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }

  private addInitializer(hint: string, dims: readonly number[], dataType: DataTypeCode, rawData: Uint8Array): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [...dims], dataType, rawData });
    return name;
  }

  private claim(name: string, what: string): void {
    if (name === '') throw new GraphBuildError(`A ${what} needs a non-empty name.`);
    if (this.names.has(name))
      throw new GraphBuildError(`The ${what} name "${name}" is already used in graph "${this.name}".`);
    this.names.add(name);
  }

  /** The hint itself if free, else the hint with the first free `_n` suffix. */
  private fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.names.has(name); i++) name = `${hint}_${i}`;
    this.names.add(name);
    return name;
  }

  private nodeName(hint: string): string {
    let name = hint;
    for (let i = 1; this.nodeNames.has(name) || this.names.has(name); i++) name = `${hint}_${i}`;
    this.nodeNames.add(name);
    return name;
  }

  private requireValue(name: string, reader: string): void {
    if (!this.names.has(name)) {
      throw new GraphBuildError(
        `${capitalise(reader)} reads "${name}", which no graph input, initializer or earlier node provides.`,
      );
    }
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new GraphBuildError(
      `Initializer "${name}" has invalid dims [${dims.join(', ')}]; each must be a whole number ≥ 0.`,
    );
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length) {
    throw new GraphBuildError(
      `Initializer "${name}" has dims [${dims.join(', ')}] (${expected} values) but ${length} values were given.`,
    );
  }
}

function valueInfo(name: string, dims: readonly Dim[]): ValueInfoMessage {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const utf8 = new TextEncoder();

function attribute(name: string, value: AttributeValue): AttributeMessage {
  switch (value.type) {
    case 'int':
      return { name, type: AttributeType.INT, i: value.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...value.value] };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: value.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...value.value] };
    case 'string':
      return { name, type: AttributeType.STRING, s: utf8.encode(value.value) };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: value.value.map((s) => utf8.encode(s)) };
  }
}

/**
 * ONNX raw_data is little-endian. On little-endian hosts (x86, ARM as Node runs them) the typed array's
 * bytes are already in that order; elsewhere each element is rewritten through a DataView.
 */
function littleEndianBytes(values: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(values.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return bytes;
  }
  const view = new DataView(bytes.buffer);
  if (values instanceof Float32Array) values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  else values.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  return bytes;
}
