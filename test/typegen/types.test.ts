/**
 * `snakepit types` end to end, as a user runs it: generate a client for the libraries (math,
 * statistics, json, a numpy subset) and a user adapter, then compile code that uses it with `tsc --strict`
 * (test/typegen/type-tests/usage.ts: result types pinned, wrong calls expected to fail).
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTypes } from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import { requireOptional } from '../helpers.js';
import { FULL_CONFIG } from './typegen-config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);
const imports = (module: string): boolean =>
  spawnSync(resolvePython(undefined).executable, ['-c', `import ${module}`], { stdio: 'ignore' }).status ===
  0;
const HAS_NUMPY = imports('numpy');
const HAS_MYPY = imports('mypy'); // its bundled typeshed types math, statistics and json

/** numpy, and typeshed for the standard library: both come with `npx snakepit setup --dev`. */
function haveLibraries(): boolean {
  return requireOptional(HAS_NUMPY, 'numpy') && requireOptional(HAS_MYPY, "mypy (typeshed's stubs)");
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(HERE, 'out-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `tsc --strict` on `files` in `dir`, with 'snakepit' resolving to this repository's build. */
async function tsc(files: string[]): Promise<{ code: number; output: string }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2023',
        lib: ['ES2023', 'ESNext.Disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        skipLibCheck: false,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        paths: { snakepit: [join(REPO, 'dist', 'src', 'index.d.ts')] },
      },
      files,
    }),
  );
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The client for FULL_CONFIG in `dir` (once: both the passing and the failing compile use it). */
let client: ReturnType<typeof generateTypes> | undefined;
const generateClient = (): ReturnType<typeof generateTypes> =>
  (client ??= generateTypes(FULL_CONFIG, { outDir: dir, cwd: REPO }));

describe('snakepit types: a client for math, statistics, json, numpy and a user adapter', () => {
  it('compiles under tsc --strict, with result types pinned and wrong calls failing', async () => {
    if (!haveLibraries()) return;
    const result = await generateClient();
    expect(result.warnings).toEqual([]);
    expect(result.pools[0]!.stubs).toContain('typeshed'); // standard-library types come from typeshed
    copyFileSync(join(HERE, 'type-tests', 'usage.ts'), join(dir, 'usage.ts'));
    const { code, output } = await tsc(['usage.ts']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 120_000);

  it("numpy's whole public surface (and math, statistics, json): generated and valid TypeScript", async () => {
    if (!requireOptional(HAS_NUMPY, 'numpy')) return;
    const config = {
      libraries: [
        { name: 'numpy', module: 'numpy', expose: 'public' as const },
        { name: 'statistics', module: 'statistics', expose: 'public' as const },
        { name: 'math', module: 'math', expose: 'public' as const },
        { name: 'json', module: 'json', expose: 'public' as const },
      ],
    };
    const result = await generateTypes(config, { outDir: join(dir, 'public'), cwd: REPO });
    expect(result.pools[0]!.functions).toBeGreaterThan(400);
    console.log(
      `public surface: ${result.pools[0]!.functions} functions described in ${result.pools[0]!.elapsedMs} ms`,
    );
    const { code, output } = await tsc(['public/index.d.ts']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 180_000);

  it('the type test can fail: each wrong call, without its @ts-expect-error, is a compile error on its line', async () => {
    // Every `@ts-expect-error` removed: tsc must then report an error on exactly the lines each one guarded
    // (a directive met by some other error elsewhere, or a wrong call that compiles, fails this test).
    if (!haveLibraries()) return;
    const source = readFileSync(join(HERE, 'type-tests', 'usage.ts'), 'utf8').split('\n');
    const expected: number[] = [];
    const bad: string[] = [];
    for (const line of source) {
      if (/^\s*\/\/ @ts-expect-error/.test(line)) expected.push(bad.length + 1);
      else bad.push(line);
    }
    expect(expected.length).toBeGreaterThanOrEqual(10);
    await generateClient();
    writeFileSync(join(dir, 'bad.ts'), bad.join('\n'));
    const { code, output } = await tsc(['bad.ts']);
    expect(code).not.toBe(0);
    const failing = [...output.matchAll(/^bad\.ts\((\d+),\d+\): error TS\d+/gm)].map((m) => Number(m[1]));
    expect([...new Set(failing)].sort((a, b) => a - b)).toEqual(expected);
    expect(output).toMatch(/Property 'clasify' does not exist/);
    expect(output).toMatch(/Property 'sqr' does not exist/);
    expect(output).toMatch(
      /Argument of type 'string' is not assignable to parameter of type 'number \| bigint'/,
    );
  }, 120_000);
});
