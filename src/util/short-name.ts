/**
 * Quoting a caller-supplied name (a tool, a method, an attribute) in a message: names come from untrusted input
 * and may be megabytes long, and an error message must not carry them whole.
 */

/** `name` quoted as JSON, cut to about `limit` characters with its length said. */
export function shortName(name: unknown, limit = 80): string {
  const text = typeof name === 'string' ? name : String(name);
  return text.length <= limit
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, limit))}... (${text.length} characters)`;
}
