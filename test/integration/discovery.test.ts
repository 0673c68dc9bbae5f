// Discovery of Python tools: the `ready` handshake's ToolSpecs with their JSON Schema (from type hints, defaults
// and docstrings), compared with a golden file reviewed by hand, the LLM export of the same, and the Python-side
// check of argument values against that schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentsError, type Snakepit, toLlmTools } from '../../src/index.js';
import { start } from '../helpers.js';
import { testPythons } from '../pythons.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'typed-tools.describe.json');
const PYTHONS = testPythons();

describe.each(PYTHONS)('discovery of a type-hinted adapter (Python %s)', (label, executable) => {
  let pit: Snakepit;
  beforeAll(async () => {
    pit = await start({
      adapter: 'snakepit_fixtures.typed_tools:TypedToolsAdapter',
      ...(executable ? { python: { executable } } : {}),
    });
  });
  afterAll(() => pit?.close());

  it('matches the golden file', () => {
    const described = {
      describe: pit.describe().map(({ name, description, signature, inputSchema }) => ({
        name,
        description,
        signature,
        inputSchema,
      })),
      openai: toLlmTools(pit.describe(), { format: 'openai' }),
    };
    if (process.env['UPDATE_GOLDEN'] === '1' && label === 'default') {
      writeFileSync(GOLDEN, `${JSON.stringify(described, null, 2)}\n`);
    }
    expect(described).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });

  it('refuses argument values that do not fit the hints, naming the argument', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['add', { a: 'one' }, 'argument a: expected integer, got string'],
      ['add', { a: 1, b: 2.5 }, 'argument b: expected integer, got number 2.5'],
      [
        'search',
        { query: 'q', mode: 'regex' },
        "argument mode: expected one of 'exact', 'fuzzy', got 'regex'",
      ],
      ['search', { query: 'q', tags: ['a', 3] }, 'argument tags[1]: expected string, got integer 3'],
      [
        'shapes',
        { pair: [1, 2], matrix: [], scores: {} },
        'argument pair[1]: expected string, got integer 2',
      ],
      [
        'shapes',
        { pair: [1, 'a'], matrix: [[1, 'x']], scores: {} },
        'argument matrix[0][1]: expected number',
      ],
      ['shapes', { pair: [1, 'a'], matrix: [], scores: { a: 'high' } }, 'argument scores.a: expected number'],
      ['convert', { value: 1, unit: 'K' }, "argument unit: expected one of 'C', 'F', got 'K'"],
      ['tagged', { name: 'n', color: 7 }, 'argument color: expected string, got integer 7'],
    ];
    for (const [tool, args, problem] of cases) {
      const err = await pit.execute(tool, args).catch((e: unknown) => e);
      expect(err, `${tool}(${JSON.stringify(args)})`).toBeInstanceOf(InvalidArgumentsError);
      expect((err as InvalidArgumentsError).problem).toContain(problem);
    }
  });

  it('accepts what fits (ints for floats, whole floats for ints, null for Optional), and validate=False', async () => {
    expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
    expect(await pit.execute('convert', { value: 3, unit: 'F', precision: null })).toBe(3);
    expect(
      await pit.execute('shapes', { pair: [1, 'a'], matrix: [[1, 2.5]], scores: { a: 1 }, point: null }),
    ).toEqual({});
    expect(await pit.execute('loose', { x: 'not an int' })).toBe('str');
  });
});
