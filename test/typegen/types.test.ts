/**
 * `snakepit types` end to end, as a user runs it: generate a client for the libraries (math,
 * statistics, json, a numpy subset) and a user adapter, then compile code that uses it with `tsc --strict`
 * (test/typegen/type-tests/usage.ts: result types pinned, wrong calls expected to fail).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTypes } from '../../src/index.js';
import { FULL_CONFIG } from './typegen-config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);

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

describe('snakepit types: a client for math, statistics, json, numpy and a user adapter', () => {
  it('compiles under tsc --strict, with result types pinned and wrong calls failing', async () => {
    const result = await generateTypes(FULL_CONFIG, { outDir: dir, cwd: REPO });
    expect(result.warnings).toEqual([]);
    expect(result.pools[0]!.stubs).toContain('typeshed'); // standard-library types come from typeshed
    copyFileSync(join(HERE, 'type-tests', 'usage.ts'), join(dir, 'usage.ts'));
    const { code, output } = await tsc(['usage.ts']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 120_000);

  it("numpy's whole public surface (and math, statistics, json): generated and valid TypeScript", async () => {
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

  it('the type test can fail: a wrong call without @ts-expect-error is a compile error', async () => {
    const bad = readFileSync(join(HERE, 'type-tests', 'usage.ts'), 'utf8').replace(
      '// @ts-expect-error a misspelled tool does not exist\n',
      '',
    );
    writeFileSync(join(dir, 'bad.ts'), bad);
    const { code, output } = await tsc(['bad.ts']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Property 'clasify' does not exist/);
  }, 120_000);
});
