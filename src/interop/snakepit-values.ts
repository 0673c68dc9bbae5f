/**
 * Snakepit's value conventions on BridgeService (docs/PROTOCOL.md §9.2), host side: what the `.proto` does not
 * say about the bytes inside `Any`, `error_message` and `ToolChunk.data`.
 *
 * - parameters: `Any` with type_url `google.protobuf.StringValue` and the value's JSON text; top-level bytes go in
 *   `binary_parameters`;
 * - results: `Any` with any type_url and JSON text (a packed StringValue is accepted too), or `binary_result`;
 * - errors: JSON `{type, message, traceback, context}`; snakepit's worker adds `context.kind`/`details`;
 * - chunks: JSON text, or raw bytes / UTF-8 text (`metadata.encoding` says which when the worker is ours).
 */
import { SerializationError } from '../errors/errors.js';
import type { ErrorInfo } from '../protocol/messages.js';

export const STRING_VALUE_URL = 'type.googleapis.com/google.protobuf.StringValue';
const RESULT_URL = 'type.googleapis.com/snakepit.';

/** `google.protobuf.Any` as proto-loader hands it over. */
export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/** The JSON text of a value (nested bytes as base64 text, dates as ISO text, bigints as numbers or text). */
export function toJson(value: unknown, path: string): string {
  return JSON.stringify(value, function (this: unknown, key, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
    if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : raw.toISOString();
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
    if (typeof v === 'function' || typeof v === 'symbol') {
      throw new SerializationError(path, typeof v, `${path}.${key}: a ${typeof v} has no JSON form`);
    }
    return v;
  });
}

/** `parameters` and `binary_parameters` of an ExecuteToolRequest for `args`. */
export function encodeParameters(args: Record<string, unknown>): {
  parameters: Record<string, AnyMessage>;
  binary_parameters: Record<string, Buffer>;
} {
  const parameters: Record<string, AnyMessage> = {};
  const binary: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(args)) {
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) binary[key] = Buffer.from(value);
    else parameters[key] = encodeAny(value ?? null, `args.${key}`);
  }
  return { parameters, binary_parameters: binary };
}

/** An `Any` holding a value's JSON text (results use the `snakepit.<tag>` type_url). */
export function encodeAny(value: unknown, path: string, typeUrl = STRING_VALUE_URL): AnyMessage {
  return { type_url: typeUrl, value: Buffer.from(toJson(value, path) ?? 'null', 'utf8') };
}

/** A result's `Any`, tagged the Snakepit way (every number is `float`). */
export function resultAny(value: unknown, path: string): AnyMessage {
  const tag = Array.isArray(value)
    ? 'list'
    : value !== null && typeof value === 'object'
      ? 'map'
      : typeof value === 'boolean'
        ? 'boolean'
        : typeof value === 'number' || typeof value === 'bigint'
          ? 'float'
          : 'string';
  return encodeAny(value, path, RESULT_URL + tag);
}

/** The string inside a serialized google.protobuf.StringValue, or undefined. */
function unpackStringValue(raw: Buffer): string | undefined {
  if (raw.length === 0 || raw[0] !== 0x0a) return undefined;
  let length = 0;
  let shift = 0;
  let i = 1;
  for (; i < raw.length; i++) {
    const b = raw[i]!;
    length |= (b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      i++;
      break;
    }
  }
  return i + length === raw.length ? raw.subarray(i).toString('utf8') : undefined;
}

/**
 * The value in an `Any`: JSON text whatever the type_url; a packed StringValue is accepted too.
 * @throws SyntaxError when it is neither
 */
export function decodeAny(any: AnyMessage | null | undefined): unknown {
  if (!any || (any.value.length === 0 && !any.type_url)) return null;
  try {
    return JSON.parse(any.value.toString('utf8'));
  } catch (err) {
    const text = unpackStringValue(any.value);
    if (text === undefined) throw err;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
}

/** A chunk's value: by `metadata.encoding` when given, else JSON, else UTF-8 text, else the raw bytes. */
export function decodeChunkData(data: Buffer, encoding: string | undefined): unknown {
  if (encoding === 'raw') return data;
  if (encoding === 'utf8') return data.toString('utf8');
  const text = data.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return Buffer.from(text, 'utf8').equals(data) ? text : data;
  }
}

/** An ErrorInfo from Snakepit's error JSON (or from plain text, for a worker that sends no JSON). */
export function errorInfoFromJson(text: string, tool: string): ErrorInfo {
  let parsed: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  if (!parsed) {
    return {
      kind: 'python',
      type: 'RemoteError',
      module: '',
      mro: ['RemoteError'],
      message: text || `"${tool}" failed without a message`,
      traceback: '',
      details: {},
    };
  }
  const context = (parsed['context'] ?? {}) as Record<string, unknown>;
  const type = typeof parsed['type'] === 'string' ? parsed['type'] : 'RemoteError';
  const kind = typeof context['kind'] === 'string' ? (context['kind'] as ErrorInfo['kind']) : 'python';
  const traceback = parsed['traceback'] ?? parsed['stacktrace'];
  return {
    kind,
    type,
    module: typeof context['module'] === 'string' ? context['module'] : '',
    mro: Array.isArray(context['mro']) ? (context['mro'] as string[]) : [type],
    message: typeof parsed['message'] === 'string' ? parsed['message'] : '',
    traceback: typeof traceback === 'string' ? traceback : '',
    details: (context['details'] ?? {}) as Record<string, unknown>,
  };
}
