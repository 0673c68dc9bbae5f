/**
 * Terminal output helpers. Colour follows the usual conventions: `FORCE_COLOR` (anything but `0`/`false`) turns
 * it on even when output is piped, `NO_COLOR` (non-empty) turns it off, else only a TTY gets it.
 */

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env['NO_COLOR']) return false;
  return Boolean(stream.isTTY);
}

function paint(code: number, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const green = (t: string, stream: NodeJS.WriteStream = process.stdout): string => paint(32, t, stream);
export const red = (t: string, stream: NodeJS.WriteStream = process.stderr): string => paint(31, t, stream);
export const yellow = (t: string, stream: NodeJS.WriteStream = process.stdout): string =>
  paint(33, t, stream);
export const dim = (t: string, stream: NodeJS.WriteStream = process.stdout): string => paint(2, t, stream);
export const bold = (t: string, stream: NodeJS.WriteStream = process.stdout): string => paint(1, t, stream);

/** Print an error the way every command does (message, and the fix when the error has one), exit code 1. */
export function reportError(err: unknown): void {
  const e = err as { message?: string; name?: string; code?: string; traceback?: string };
  const message = e?.message ?? String(err);
  process.stderr.write(`${red('error:')} ${message}\n`);
  if (typeof e?.traceback === 'string' && e.traceback.trim()) {
    process.stderr.write(`${dim(e.traceback.trimEnd(), process.stderr)}\n`);
  }
  process.exitCode = 1;
}
