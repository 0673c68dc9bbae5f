/**
 * Errors that settle a call are created where the answer arrives — a socket callback — so their own stack says
 * nothing useful. This swaps those frames for the frames of the code that awaited the call.
 *
 * It costs nothing on success: the probe Error is created only on the failure path, inside the awaiting async
 * function, where V8's async stack traces reach back to the caller's `await`.
 */
export function adoptCallerStack(error: unknown, probe: Error): unknown {
  if (!(error instanceof Error) || !probe.stack) return error;
  const frames = probe.stack.split('\n').slice(1).join('\n');
  const head = `${error.name}: ${error.message}`;
  Object.defineProperty(error, 'stack', { value: `${head}\n${frames}`, writable: true, configurable: true });
  return error;
}
