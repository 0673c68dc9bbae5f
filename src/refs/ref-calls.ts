/**
 * `pit.callMethod` and `pit.getAttr` as calls: argument checks, and the reserved tool, session, pool and worker
 * each one runs with (docs/PROTOCOL.md §5.1). The reference decides where: its session, on its worker.
 */
import { InvalidArgumentsError } from '../errors/errors.js';
import { shortName } from '../util/short-name.js';
import { memberNameProblem } from './name-policy.js';
import { PyRef } from './py-ref.js';

/** Reserved tool names the worker's dispatcher serves itself. */
export const CALL_METHOD_TOOL = '__snakepit__.call_method';
export const GET_ATTR_TOOL = '__snakepit__.get_attr';

export interface RefCall {
  tool: string;
  args: Record<string, unknown>;
  pool: string | undefined;
  sessionId: string;
  workerId: string | undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function check(ref: unknown, name: unknown, label: string): asserts ref is PyRef {
  if (!(ref instanceof PyRef)) {
    throw new InvalidArgumentsError(
      label,
      undefined,
      `expected a PyRef (an object reference), got ${typeof ref}`,
    );
  }
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentsError(
      label,
      undefined,
      'the method or attribute name must be a non-empty string',
    );
  }
  const problem = memberNameProblem(name);
  if (problem !== undefined) throw new InvalidArgumentsError(label, undefined, problem);
}

function plan(ref: PyRef, tool: string, args: Record<string, unknown>): RefCall {
  return { tool, args, pool: ref.pool, sessionId: ref.sessionId, workerId: ref.workerId };
}

function label(ref: unknown, name: unknown): string {
  const member = typeof name === 'string' && name.length <= 80 ? name : shortName(name);
  return `${ref instanceof PyRef ? ref.type : 'PyRef'}.${member}`;
}

/**
 * `args` is either keyword arguments with positional ones in `_args` (as `execute` spells them), or, the older
 * spelling, an array of positional arguments with the keywords in `kwargs`.
 * @throws InvalidArgumentsError for a non-PyRef, an empty method name, arguments of neither spelling, or both
 *   spellings at once
 */
export function methodCall(ref: PyRef, method: string, args: unknown, kwargs: unknown): RefCall {
  const where = label(ref, method);
  check(ref, method, where);
  if (Array.isArray(args)) {
    if (kwargs !== undefined && !isPlainObject(kwargs)) {
      throw new InvalidArgumentsError(where, undefined, 'options.kwargs must be a plain object');
    }
    return plan(ref, CALL_METHOD_TOOL, { ref, method, args, kwargs: kwargs ?? {} });
  }
  if (!isPlainObject(args)) {
    throw new InvalidArgumentsError(
      where,
      undefined,
      'arguments must be a plain object of keyword arguments (positional ones in `_args`)',
    );
  }
  if (kwargs !== undefined) {
    throw new InvalidArgumentsError(
      where,
      undefined,
      'options.kwargs belongs to the array spelling; put keyword arguments beside `_args` instead',
    );
  }
  const { _args: positional = [], ...keywords } = args;
  if (!Array.isArray(positional)) {
    throw new InvalidArgumentsError(where, undefined, '`_args` must be an array of positional arguments');
  }
  return plan(ref, CALL_METHOD_TOOL, { ref, method, args: positional, kwargs: keywords });
}

/** @throws InvalidArgumentsError for a non-PyRef or an empty attribute name */
export function attrCall(ref: PyRef, name: string): RefCall {
  check(ref, name, label(ref, name));
  return plan(ref, GET_ATTR_TOOL, { ref, name });
}
