/**
 * Read `[project].dependencies` from a pyproject.toml (PEP 621) without a TOML library: only that one array of
 * strings is needed, so this reads just enough TOML for it (tables, comments, basic and literal strings, an array
 * over several lines). Anything it cannot read is a `PythonEnvError` naming the file, never a silent skip.
 */
import { readFileSync } from 'node:fs';
import { PythonEnvError } from '../errors/errors.js';

/** The `[project].dependencies` of `path`; `[]` when the file has no `[project]` table or no dependencies. */
export function readPyprojectDependencies(path: string): string[] {
  return parsePyprojectDependencies(readFileSync(path, 'utf8'), path);
}

/** Parse `[project].dependencies` out of pyproject.toml text. */
export function parsePyprojectDependencies(text: string, where = 'pyproject.toml'): string[] {
  const fail = (why: string): PythonEnvError =>
    new PythonEnvError(
      `${where}: cannot read [project].dependencies: ${why}`,
      'write dependencies as a TOML array of strings, e.g. dependencies = ["numpy>=1.26", "pandas"]',
    );
  let table = '';
  let i = 0;
  const lines = text.split(/\r?\n/);
  for (; i < lines.length; i++) {
    const line = stripComment(lines[i]!).trim();
    const header = /^\[\s*([A-Za-z0-9_.\-\s"']+?)\s*\]$/.exec(line);
    if (header) {
      table = header[1]!.replace(/\s+/g, '');
      continue;
    }
    if (table !== 'project') continue;
    const m = /^dependencies\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    // Gather the array text up to its closing bracket (which may be lines later).
    let body = m[1]!;
    if (!body.trimStart().startsWith('[')) throw fail('dependencies is not an array');
    while (!closes(body)) {
      i++;
      if (i >= lines.length) throw fail('the array is not closed');
      body += '\n' + stripComment(lines[i]!);
    }
    return parseStringArray(body.trim(), fail);
  }
  return [];
}

/** A line without its `# comment`, keeping `#` inside strings. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let k = 0; k < line.length; k++) {
    const ch = line[k]!;
    if (quote) {
      if (ch === '\\' && quote === '"') k++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return line.slice(0, k);
  }
  return line;
}

function closes(body: string): boolean {
  let quote: string | undefined;
  for (let k = 0; k < body.length; k++) {
    const ch = body[k]!;
    if (quote) {
      if (ch === '\\' && quote === '"') k++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ']') return true;
  }
  return false;
}

function parseStringArray(body: string, fail: (why: string) => Error): string[] {
  if (!body.startsWith('[')) throw fail('dependencies is not an array');
  const out: string[] = [];
  let k = 1;
  const skip = (): void => {
    while (k < body.length && /[\s,]/.test(body[k]!)) k++;
  };
  for (skip(); k < body.length && body[k] !== ']'; skip()) {
    const quote = body[k];
    if (quote !== '"' && quote !== "'")
      throw fail(`expected a string at ${JSON.stringify(body.slice(k, k + 20))}`);
    let value = '';
    k++;
    while (k < body.length && body[k] !== quote) {
      if (quote === '"' && body[k] === '\\') {
        const next = body[k + 1];
        value += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
        k += 2;
      } else {
        value += body[k];
        k++;
      }
    }
    if (k >= body.length) throw fail('a string is not closed');
    k++;
    out.push(value.trim());
  }
  return out;
}
