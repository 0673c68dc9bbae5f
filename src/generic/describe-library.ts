/**
 * `pit.describe('python.<namespace>[.<function>]')`: a library's functions (signature and first docstring line
 * each), from the specs the workers advertised in `ready`.
 */
import { UnknownToolError } from '../errors/errors.js';
import type { Pool } from '../pool/pool.js';
import type { ToolSpec } from '../protocol/messages.js';

/**
 * The matching library functions of the first pool that serves the namespace.
 * @throws UnknownToolError when no pool has that namespace, or the namespace has no such function
 */
export function describeLibrary(target: string, pools: Pool[]): ToolSpec[] {
  const namespace = target.slice('python.'.length).split('.')[0]!;
  for (const pool of pools) {
    if (!pool.libraries().some((lib) => lib.namespace === namespace)) continue;
    const tools = pool.tools();
    if (target === `python.${namespace}`) return tools.filter((t) => t.name.startsWith(`${target}.`));
    const exact = tools.filter((t) => t.name === target);
    if (exact.length > 0) return exact;
    throw new UnknownToolError(
      target,
      [],
      `library namespace "${namespace}" has no function "${target.slice(namespace.length + 8)}"`,
    );
  }
  const known = pools.flatMap((p) => p.libraries().map((lib) => `python.${lib.namespace}`));
  throw new UnknownToolError(
    target,
    [],
    `no pool serves a library with that namespace (known: ${known.join(', ') || 'none'})`,
  );
}
