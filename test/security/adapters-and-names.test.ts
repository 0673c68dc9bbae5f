// Attack 7: small ones. An adapter spec that names a function (os:fork) ran it at start; a 10 MB tool name was
// echoed whole in the error. Now the adapter must be a class (WorkerStartError, nothing run), and a tool name is
// refused past 1024 characters and quoted cut short in every error that names it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentsError, type Snakepit, UnknownToolError, WorkerStartError } from '../../src/index.js';
import { MAX_TOOL_NAME_CHARS } from '../../src/call/call-options.js';
import { SHOWCASE, start } from '../helpers.js';
import { marker, refusal } from './security-helpers.js';

describe('attack: an adapter spec that names a function', () => {
  it.each([
    ['os:fork', undefined],
    ['snakepit_fixtures.attack_surface:plant', undefined],
    ['snakepit_fixtures.attack_surface:plant', [{ name: 'math', module: 'math', functions: ['sqrt'] }]],
  ])('%s is refused at start with WorkerStartError, and never called', async (adapter, libraries) => {
    const pwned = marker('adapter');
    try {
      const err = await refusal(
        start({ adapter, libraries, env: { SNAKEPIT_ATTACK_MARKER: pwned.path }, startupTimeoutMs: 20_000 }),
      );
      expect(err).toBeInstanceOf(WorkerStartError);
      expect(err.message).toMatch(/names a (builtin_function_or_method|function), not a class/);
      expect(pwned.exists()).toBe(false);
    } finally {
      pwned.remove();
    }
  });
});

describe('attack: a 10 MB tool name', () => {
  let pit: Snakepit;
  const huge = 'x'.repeat(10 * 1024 * 1024);
  beforeAll(async () => {
    pit = await start({ adapter: SHOWCASE });
  });
  afterAll(() => pit?.close());

  it('execute and executeStream refuse it before sending, quoting it cut short', async () => {
    for (const attempt of [
      pit.execute(huge),
      (async () => {
        for await (const _ of pit.executeStream(huge)) break;
      })(),
    ]) {
      const err = await refusal(attempt);
      expect(err).toBeInstanceOf(InvalidArgumentsError);
      expect(err.message).toMatch(
        new RegExp(`is ${huge.length} characters; the limit is ${MAX_TOOL_NAME_CHARS}`),
      );
      expect(err.message.length).toBeLessThan(1_000);
    }
  });

  it('a name just under the limit reaches the worker, and its unknown-tool error stays short', async () => {
    const long = 'y'.repeat(MAX_TOOL_NAME_CHARS);
    const err = await refusal(pit.execute(long));
    expect(err).toBeInstanceOf(UnknownToolError);
    expect(err.message.length).toBeLessThan(1_000);
    expect(err.message).toMatch(/\(1024 characters\)/);
  });

  it('a host tool called by a huge name is an UnknownToolError with a short message', async () => {
    const err = await refusal(pit.tools.call(huge, {}));
    expect(err).toBeInstanceOf(UnknownToolError);
    expect(err.message.length).toBeLessThan(1_000);
  });

  it('Python asking for a host tool by a huge name gets a short error, and the worker serves on', async () => {
    const err = await refusal(pit.execute('call_host', { tool: huge }));
    expect(err.message.length).toBeLessThan(2_000);
    expect(err.message).toMatch(/no host tool named/);
    expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
  });
});
