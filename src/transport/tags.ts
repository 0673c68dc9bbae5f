/**
 * Tags: values with no native form on the wire travel as a map whose first key is `__snakepit__` (the kind),
 * see docs/PROTOCOL.md §3.1. msgpack wraps the map in extension type 83; JSON carries it as an object.
 *
 * Kinds are registered here, so later capabilities (object references, arrays, dates) add a kind without
 * touching the codecs.
 */

export const TAG_KEY = '__snakepit__';
/** msgpack extension type that wraps a tag map. */
export const TAG_EXT_TYPE = 83;

export interface TagMap {
  [TAG_KEY]: string;
  [field: string]: unknown;
}

/** A host value that encodes itself as a tag (subclass it; both codecs honour it). */
export abstract class TaggedValue {
  abstract toTag(): TagMap;
}

/** A tag built directly from its map (used by the codecs for `int`/`float`). */
export class RawTag extends TaggedValue {
  constructor(readonly tag: TagMap) {
    super();
  }
  toTag(): TagMap {
    return this.tag;
  }
}

type Reviver = (tag: TagMap) => unknown;
const revivers = new Map<string, Reviver>();

/** Register how a tag kind becomes a host value. */
export function registerTagKind(kind: string, revive: Reviver): void {
  revivers.set(kind, revive);
}

export function isTagMap(value: unknown): value is TagMap {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as Record<string, unknown>)[TAG_KEY] === 'string'
  );
}

/** The host value for a tag; a kind nobody registered stays the map it was (PROTOCOL.md §3.1). */
export function reviveTag(tag: TagMap): unknown {
  const revive = revivers.get(tag[TAG_KEY]);
  return revive ? revive(tag) : tag;
}

/** The integer of an `int` tag's text: hexadecimal (`0x…`, `-0x…`, what both sides write) or decimal. */
export function parseIntTag(text: unknown): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(text);
  if (!m) return undefined;
  const n = BigInt(m[2]!);
  return m[1] ? -n : n;
}

registerTagKind('int', (tag) => parseIntTag(tag['value']) ?? tag);

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
registerTagKind('float', (tag) => {
  const text = tag['value'];
  if (typeof text !== 'string') return tag;
  if (text in NON_FINITE) return NON_FINITE[text];
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : tag;
});

/** An integer beyond what the codec carries natively; hexadecimal, which Python reads at any length. */
export function intTag(value: bigint): RawTag {
  const text = value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
  return new RawTag({ [TAG_KEY]: 'int', value: text });
}

export function floatTag(value: number): RawTag {
  return new RawTag({ [TAG_KEY]: 'float', value: String(value) });
}

/**
 * Classes from optional packages that encode as a tag (an apache-arrow `Table`: src/arrow/arrow-tables.ts). The
 * codecs learn of one when it is registered: msgpack adds an extension, the careful walk looks it up.
 */
type ToTag = (value: object) => TagMap;
const taggedClasses = new Map<abstract new (...args: never[]) => object, ToTag>();
const classListeners: Array<(Class: abstract new (...args: never[]) => object, toTag: ToTag) => void> = [];

export function registerTaggedClass(Class: abstract new (...args: never[]) => object, toTag: ToTag): void {
  if (taggedClasses.has(Class)) return;
  taggedClasses.set(Class, toTag);
  for (const listener of classListeners) listener(Class, toTag);
}

/** Called for every tagged class, those registered already included. */
export function onTaggedClass(
  listener: (Class: abstract new (...args: never[]) => object, toTag: ToTag) => void,
): void {
  classListeners.push(listener);
  for (const [Class, toTag] of taggedClasses) listener(Class, toTag);
}

/** The tag of an instance of a registered class, else undefined. */
export function taggedFormOf(value: object): TagMap | undefined {
  for (const [Class, toTag] of taggedClasses) if (value instanceof Class) return toTag(value);
  return undefined;
}
