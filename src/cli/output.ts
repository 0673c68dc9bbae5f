/** Terminal output helpers: colour only when writing to a TTY (and NO_COLOR is unset). */

const useColor = (stream: NodeJS.WriteStream): boolean => Boolean(stream.isTTY) && !process.env['NO_COLOR'];

function paint(code: number, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const green = (t: string): string => paint(32, t);
export const red = (t: string, stream: NodeJS.WriteStream = process.stderr): string => paint(31, t, stream);
export const dim = (t: string): string => paint(2, t);

/** Print an error the way every command does, and set a failing exit code. */
export function reportError(err: unknown): void {
  const e = err as { message?: string; fix?: string };
  process.stderr.write(`${red('error:')} ${e?.message ?? String(err)}\n`);
  process.exitCode = 1;
}
