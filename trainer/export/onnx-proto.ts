/**
 * The ONNX protobuf messages the exporter writes (ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto, AttributeProto), and their wire encoding.
 *
 * The encoding comes from the `onnx-proto` package: static protobufjs code generated from onnx.proto
 * at ONNX 1.10 (IR version 8), which loads under CommonJS with its own pinned protobufjs runtime. Field
 * numbers in onnx.proto never change, so IR 8 messages carry opset 17 models as well as newer ones.
 * This is the only module that imports `onnx-proto`; the rest of the exporter sees the plain message
 * shapes re-exported here, so a switch to a hand-written protobufjs descriptor would stay local.
 */
import { onnx } from 'onnx-proto';

/** A model: IR version, opset imports and one graph. */
export type ModelMessage = onnx.IModelProto;
/** A graph: nodes in topological order, initializers, and typed inputs and outputs. */
export type GraphMessage = onnx.IGraphProto;
/** One operator invocation. */
export type NodeMessage = onnx.INodeProto;
/** A constant tensor (initializer or tensor-valued attribute). */
export type TensorMessage = onnx.ITensorProto;
/** A graph input or output: name, element type and (possibly symbolic) shape. */
export type ValueInfoMessage = onnx.IValueInfoProto;
/** A named operator attribute. */
export type AttributeMessage = onnx.IAttributeProto;

/** TensorProto.DataType codes used by the exporter (onnx.proto numbering). */
export const DataType = {
  FLOAT: 1,
  INT64: 7,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType codes (onnx.proto numbering). */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;
export type AttributeTypeCode = (typeof AttributeType)[keyof typeof AttributeType];

/** The IR version written into every model; IR 8 is what ONNX 1.12 pairs with opset 17. */
export const IR_VERSION = 8;

/** Serialises a model to the bytes of an `.onnx` file. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const error = onnx.ModelProto.verify(model);
  if (error) throw new Error(`Invalid ONNX model message: ${error}.`);
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Parses `.onnx` bytes back into a plain message, with 64-bit integers as numbers and byte fields as
 * Uint8Array, so tests and tools can inspect what was written.
 */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const message = onnx.ModelProto.decode(bytes);
  return onnx.ModelProto.toObject(message, { longs: Number }) as ModelMessage;
}
