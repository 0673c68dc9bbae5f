/**
 * Developer tracing, one name per module, switched on by `SNAKEPIT_TRACE=pool,worker` (or `all`), like grpc-js's
 * GRPC_TRACE. Writes to stderr; costs one Set lookup when off.
 */

const enabled = new Set(
  (process.env['SNAKEPIT_TRACE'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const all = enabled.has('all') || enabled.has('*');

export function tracing(tracer: string): boolean {
  return all || enabled.has(tracer);
}

export function trace(tracer: string, message: string): void {
  if (all || enabled.has(tracer))
    process.stderr.write(`${new Date().toISOString()} snakepit:${tracer} ${message}\n`);
}
