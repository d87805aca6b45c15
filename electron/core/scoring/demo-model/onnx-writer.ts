/**
 * Just enough of ONNX's ModelProto to write small graphs from code: a protobuf encoder for the
 * messages a graph needs, and a builder that names intermediate values. Field numbers are those of
 * onnx/onnx.proto; repeated scalars are written unpacked, as that file (proto2) declares them.
 */

export const ELEM = { float: 1, int64: 7 } as const;
export type ElemType = keyof typeof ELEM;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];

  private push(bytes: Uint8Array | number[]): void {
    this.chunks.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  private rawVarint(value: bigint): void {
    // Negative int64s are written as their 64-bit two's complement, as protobuf requires.
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(out);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(BigInt((field << 3) | wire));
  }

  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(BigInt(value));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(BigInt(data.length));
    this.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export type AttrValue = { int: number } | { ints: readonly number[] };

interface Initializer {
  name: string;
  type: 'float' | 'int64';
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

interface Node {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Record<string, AttrValue>;
}

/** A dimension: a fixed size, or a name for one chosen at run time (the batch). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: readonly Dim[];
}

/** Collects nodes and constants; every op returns the name of its (first) output. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers: Initializer[] = [];
  private counter = 0;

  private fresh(hint: string): string {
    this.counter += 1;
    return `${hint}_${this.counter}`;
  }

  floats(dims: readonly number[], values: ArrayLike<number>, hint = 'const'): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size)
      throw new RangeError(`${hint}: ${values.length} values for ${dims}`);
    const name = this.fresh(hint);
    this.initializers.push({ name, type: 'float', dims, data: Float32Array.from(values) });
    return name;
  }

  scalar(value: number): string {
    return this.floats([], [value], 'k');
  }

  int64s(values: readonly number[], hint = 'ints'): string {
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      type: 'int64',
      dims: [values.length],
      data: BigInt64Array.from(values.map(BigInt)),
    });
    return name;
  }

  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string) {
    const output = out ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [output], attrs });
    return output;
  }

  /** Serialises the graph as a ModelProto: IR version 8, the default domain at opset 17. */
  encode(options: {
    name: string;
    doc: string;
    inputs: readonly ValueInfo[];
    outputs: readonly ValueInfo[];
  }): Uint8Array {
    const valueInfo = (w: ProtoWriter, v: ValueInfo) =>
      w.string(1, v.name).message(2, (type) =>
        type.message(1, (tensor) =>
          tensor.varint(1, ELEM[v.type]).message(2, (shape) => {
            for (const d of v.shape) {
              shape.message(1, (dim) =>
                typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d),
              );
            }
          }),
        ),
      );
    const model = new ProtoWriter()
      .varint(1, 8)
      .string(2, 'pickstudio')
      .string(6, options.doc)
      .message(7, (g) => {
        for (const n of this.nodes) {
          g.message(1, (w) => {
            for (const i of n.inputs) w.string(1, i);
            for (const o of n.outputs) w.string(2, o);
            w.string(3, n.outputs[0]!).string(4, n.op);
            for (const [name, value] of Object.entries(n.attrs)) {
              w.message(5, (a) => writeAttr(a.string(1, name), value));
            }
          });
        }
        g.string(2, options.name);
        for (const t of this.initializers) {
          g.message(5, (w) => {
            for (const d of t.dims) w.varint(1, d);
            w.varint(2, ELEM[t.type]).string(8, t.name);
            w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
          });
        }
        g.string(10, options.doc);
        for (const v of options.inputs) g.message(11, (w) => valueInfo(w, v));
        for (const v of options.outputs) g.message(12, (w) => valueInfo(w, v));
      })
      .message(8, (w) => w.string(1, '').varint(2, 17));
    return model.finish();
  }
}

// AttributeProto.type values, from onnx.proto.
const ATTR_INT = 2;
const ATTR_INTS = 7;

function writeAttr(w: ProtoWriter, value: AttrValue): void {
  if ('int' in value) {
    w.varint(3, value.int).varint(20, ATTR_INT);
    return;
  }
  for (const v of value.ints) w.varint(8, v);
  w.varint(20, ATTR_INTS);
}
