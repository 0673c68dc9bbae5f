/**
 * Property test of the value table through the Node runtime: the same generators as the Python property test
 * (./arbitraries.ts), echoed by a real Node worker. Its JSON codec is a second implementation of PROTOCOL.md §3
 * (src/runtimes/node/wire-values.ts), so this checks the two sides agree on every row: each value comes back as
 * the table says, or its call fails alone with SerializationError, and the worker is the same one at the end.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerializationError, Snakepit, type SnakepitConfig } from '../../src/index.js';
import { expectEchoedAsTheTableSays } from './echo-property.js';

const RUNS = Number(process.env['FC_NUM_RUNS'] ?? 40);
const TOOLS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'node',
  'conformance-tools.mjs',
);

describe('value round trips through the Node runtime (property)', () => {
  let pit: Snakepit;
  let pid: number;

  beforeAll(async () => {
    pit = await Snakepit.start({
      runtime: 'node',
      module: TOOLS,
      size: 1,
      logger: false,
      registryDir: false,
    } as SnakepitConfig);
    pid = await pit.execute<number>('pid');
  });
  afterAll(() => pit?.close());

  it('every generated value comes back as the table says', { timeout: 300_000 }, async () => {
    await expectEchoedAsTheTableSays(pit, RUNS);
  });

  it('a value the worker cannot send back fails alone', async () => {
    await expect(pit.execute('unencodable')).rejects.toBeInstanceOf(SerializationError);
    expect(await pit.execute<number>('pid')).toBe(pid);
  });
});
