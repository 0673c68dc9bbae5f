// The CLI's colour rule: FORCE_COLOR turns it on even when piped (0/false: off), NO_COLOR off, else a TTY only.
import { describe, expect, it } from 'vitest';
import { useColor } from '../../src/cli/output.js';
import { runCli } from './cli-helpers.js';

describe('colour', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false],
    [{ NO_COLOR: '' }, true, true],
  ])('%j on a TTY=%s: %s', (env, isTTY, expected) => {
    expect(useColor({ isTTY }, env)).toBe(expected);
  });

  it('a piped command colours its output with FORCE_COLOR, and not without', async () => {
    const forced = await runCli(
      ['call', 'nope', '--adapter', 'snakepit_bridge.adapters.showcase:ShowcaseAdapter'],
      {
        env: { FORCE_COLOR: '1', NO_COLOR: undefined },
      },
    );
    expect(forced.stderr).toContain('\u001b[31merror:\u001b[0m');
    const plain = await runCli([
      'call',
      'nope',
      '--adapter',
      'snakepit_bridge.adapters.showcase:ShowcaseAdapter',
    ]);
    expect(plain.stderr).not.toContain('\u001b[');
    expect(plain.stderr).toContain('error:');
  });
});
