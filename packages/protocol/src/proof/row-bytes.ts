const littleEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Canonical bytes of one product row: each entry as a 32-bit two's-complement little-endian integer. */
export function rowBytes(values: Int32Array | readonly number[]): Uint8Array {
  if (values instanceof Int32Array && littleEndianHost) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let j = 0; j < values.length; j++) view.setInt32(4 * j, values[j], true);
  return out;
}
