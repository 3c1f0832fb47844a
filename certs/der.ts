/** A DER element: tag byte, contents, and the offset just past it. */
export interface DerElement {
  tag: number;
  content: Uint8Array;
  end: number;
}

/** Reads one DER TLV at `offset` (definite lengths only, as DER requires: X.690 10.1). */
export function readDer(bytes: Uint8Array, offset = 0): DerElement {
  const tag = bytes[offset];
  let lengthByte = bytes[offset + 1];
  if (tag === undefined || lengthByte === undefined) throw new RangeError('DER: truncated');
  let position = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('DER: unsupported length');
    length = 0;
    for (let index = 0; index < count; index += 1) {
      lengthByte = bytes[position + index];
      if (lengthByte === undefined) throw new RangeError('DER: truncated');
      length = length * 256 + lengthByte;
    }
    position += count;
  }
  const end = position + length;
  if (end > bytes.length) throw new RangeError('DER: truncated');
  return { tag, content: bytes.subarray(position, end), end };
}

/** The elements inside a constructed element's contents. */
export function readChildren(content: Uint8Array): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < content.length) {
    const child = readDer(content, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Dotted form of an OBJECT IDENTIFIER's contents (X.690 8.19). */
export function decodeOid(content: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  content.forEach((byte) => {
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) return;
    if (parts.length === 0) {
      const first = value < 80 ? Math.floor(value / 40) : 2;
      parts.push(first, value - first * 40);
    } else {
      parts.push(value);
    }
    value = 0;
  });
  return parts.join('.');
}
