/**
 * The host's half of the name policy (docs/SECURITY.md, "Name policy"): a method or attribute name given to
 * `callMethod` / `getAttr` must be one public identifier. This is a fast refusal before anything is sent; the
 * worker applies the whole policy (python/snakepit_bridge/names.py: frame and code internals, evaluating methods,
 * what the name reaches) to every name whichever way it arrives, so this check only saves a round trip.
 */

import { shortName } from '../util/short-name.js';

/** The longest method or attribute name (and the worker's limit on any name it resolves). */
export const MAX_NAME_CHARS = 200;
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Why `name` may not be looked up on a Python object through a reference, or undefined. */
export function memberNameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_CHARS) {
    return `the name policy refuses names longer than ${MAX_NAME_CHARS} characters (got ${shortName(name)})`;
  }
  if (name.startsWith('_')) {
    return (
      `the name policy refuses ${shortName(name)}: names starting with _ (private names and dunders such as ` +
      '__class__) are never reachable'
    );
  }
  if (!IDENTIFIER.test(name)) {
    return `the name policy refuses ${shortName(name)}: a name is one identifier (letters, digits and _)`;
  }
  return undefined;
}
