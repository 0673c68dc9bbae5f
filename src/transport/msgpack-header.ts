/**
 * Reads `type` and `id` from a msgpack message whose values could not be decoded, by skipping over every other
 * value without building it. The channel then fails just that message's call (docs/PROTOCOL.md §6) instead of
 * treating the worker as broken.
 */

export interface MessageHeader {
  type?: string;
  id?: number;
}

class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('truncated');
    return this.buf[this.pos++]!;
  }
  uint(bytes: number): number {
    if (this.pos + bytes > this.buf.length) throw new RangeError('truncated');
    const n = this.buf.readUIntBE(this.pos, bytes);
    this.pos += bytes;
    return n;
  }
  skipBytes(n: number): void {
    this.pos += n;
    if (this.pos > this.buf.length) throw new RangeError('truncated');
  }
  str(n: number): string {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated');
    const text = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return text;
  }
}

/** Length of a map header at the cursor, or undefined for anything else. */
function mapLength(c: Cursor): number | undefined {
  const b = c.byte();
  if (b >= 0x80 && b <= 0x8f) return b & 0x0f;
  if (b === 0xde) return c.uint(2);
  if (b === 0xdf) return c.uint(4);
  return undefined;
}

/** A string or integer at the cursor (what `type` and `id` are), else undefined after skipping the value. */
function scalar(c: Cursor): string | number | undefined {
  const b = c.buf[c.pos];
  if (b === undefined) throw new RangeError('truncated');
  if (b <= 0x7f) return c.byte();
  if (b >= 0xa0 && b <= 0xbf) return (c.byte(), c.str(b & 0x1f));
  if (b === 0xd9 || b === 0xda) return (c.byte(), c.str(c.uint(b === 0xd9 ? 1 : 2)));
  if (b >= 0xcc && b <= 0xce) return (c.byte(), c.uint(1 << (b - 0xcc)));
  skip(c, 0);
  return undefined;
}

function skip(c: Cursor, depth: number): void {
  if (depth > 2000) throw new RangeError('nested too deeply');
  const b = c.byte();
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
  if (b >= 0x80 && b <= 0x8f) return skipItems(c, (b & 0x0f) * 2, depth);
  if (b >= 0x90 && b <= 0x9f) return skipItems(c, b & 0x0f, depth);
  if (b >= 0xa0 && b <= 0xbf) return c.skipBytes(b & 0x1f);
  switch (b) {
    case 0xc4:
    case 0xd9: return c.skipBytes(c.uint(1)); // prettier-ignore
    case 0xc5:
    case 0xda: return c.skipBytes(c.uint(2)); // prettier-ignore
    case 0xc6:
    case 0xdb: return c.skipBytes(c.uint(4)); // prettier-ignore
    case 0xc7:
      return c.skipBytes(c.uint(1) + 1);
    case 0xc8:
      return c.skipBytes(c.uint(2) + 1);
    case 0xc9:
      return c.skipBytes(c.uint(4) + 1);
    case 0xca:
      return c.skipBytes(4);
    case 0xcb:
      return c.skipBytes(8);
    case 0xcc:
    case 0xd0: return c.skipBytes(1); // prettier-ignore
    case 0xcd:
    case 0xd1: return c.skipBytes(2); // prettier-ignore
    case 0xce:
    case 0xd2: return c.skipBytes(4); // prettier-ignore
    case 0xcf:
    case 0xd3: return c.skipBytes(8); // prettier-ignore
    case 0xd4:
      return c.skipBytes(2);
    case 0xd5:
      return c.skipBytes(3);
    case 0xd6:
      return c.skipBytes(5);
    case 0xd7:
      return c.skipBytes(9);
    case 0xd8:
      return c.skipBytes(17);
    case 0xdc:
      return skipItems(c, c.uint(2), depth);
    case 0xdd:
      return skipItems(c, c.uint(4), depth);
    case 0xde:
      return skipItems(c, c.uint(2) * 2, depth);
    case 0xdf:
      return skipItems(c, c.uint(4) * 2, depth);
  }
  throw new RangeError(`invalid msgpack byte 0x${b.toString(16)}`);
}

function skipItems(c: Cursor, n: number, depth: number): void {
  for (let i = 0; i < n; i++) skip(c, depth + 1);
}

/** The `type` (a string) and `id` (an integer) of a top-level msgpack map, as far as they can be read. */
export function readMsgpackHeader(body: Buffer): MessageHeader {
  const out: MessageHeader = {};
  try {
    const c = new Cursor(body);
    const n = mapLength(c);
    if (n === undefined) return out;
    for (let i = 0; i < n && (out.type === undefined || out.id === undefined); i++) {
      const key = scalar(c);
      const value = key === 'type' || key === 'id' ? scalar(c) : (skip(c, 0), undefined);
      if (key === 'type' && typeof value === 'string') out.type = value;
      if (key === 'id' && typeof value === 'number') out.id = value;
    }
  } catch {
    // as far as it could be read
  }
  return out;
}
