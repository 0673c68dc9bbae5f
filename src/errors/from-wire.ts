/**
 * ErrorInfo (data from the worker) → the error the caller sees. Done at the API boundary so the JS stack is the
 * caller's (grpc-js `callErrorFromStatus`); internal layers pass ErrorInfo around as data.
 */
import type { ErrorInfo } from '../protocol/messages.js';
import {
  AbortError,
  InvalidArgumentsError,
  PayloadTooLargeError,
  ProtocolError,
  SerializationError,
  type SnakepitError,
  ToolError,
  UnknownToolError,
} from './errors.js';
import { pythonErrorFrom } from './python-errors.js';

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export function errorFromWire(info: ErrorInfo, tool: string, workerId: string): SnakepitError {
  const d = info.details ?? {};
  switch (info.kind) {
    case 'unknown_tool':
      return new UnknownToolError(
        str(d['tool'], tool),
        Array.isArray(d['available']) ? d['available'].filter((x): x is string => typeof x === 'string') : [],
        str(d['reason']) || undefined,
      );
    case 'invalid_arguments':
      return new InvalidArgumentsError(
        str(d['tool'], tool),
        str(d['signature']) || undefined,
        str(d['problem'], info.message),
      );
    case 'serialization':
      return new SerializationError(str(d['path'], 'result'), str(d['python_type'], info.type), info.message);
    case 'payload_too_large':
      return new PayloadTooLargeError(Number(d['size']) || 0, Number(d['limit']) || 0, `result of "${tool}"`);
    case 'cancelled':
      return new AbortError(`call to "${tool}" was cancelled in the worker`);
    case 'internal':
      return new ProtocolError(
        `worker ${workerId} failed internally: ${info.message}${info.traceback ? `\n${info.traceback}` : ''}`,
      );
    case 'tool': {
      // A worker in another language (the Node runtime, a command pool): its own error type and stack.
      const code = d['code'];
      return new ToolError(
        `${str(info.type, 'Error')}: ${info.message ?? ''}`,
        tool,
        workerId,
        str(info.type, 'Error'),
        str(info.traceback),
        Array.isArray(info.mro) ? info.mro.filter((x): x is string => typeof x === 'string') : [],
        typeof code === 'string' || typeof code === 'number' ? code : undefined,
      );
    }
    case 'python':
    default:
      return pythonErrorFrom({
        pythonType: info.type || 'Exception',
        message: info.message ?? '',
        traceback: info.traceback ?? '',
        module: info.module,
        mro: info.mro,
        workerId,
        tool,
      });
  }
}
