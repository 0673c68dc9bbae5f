// `snakepit call` on a config file that lists libraries and no adapter (the generic adapter), as a subprocess.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_PYTHON, runCli } from './cli-helpers.js';

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'snakepit-cli-generic-'));
  writeFileSync(
    join(cwd, 'snakepit.config.json'),
    JSON.stringify({
      python: { executable: REPO_PYTHON },
      libraries: [
        { name: 'math', module: 'math', functions: ['sqrt', 'hypot'] },
        { name: 'statistics', module: 'statistics', namespace: 'stats', functions: ['median'] },
      ],
    }),
  );
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('snakepit call with libraries', () => {
  it('calls library functions with positional and keyword arguments', async () => {
    expect(await runCli(['call', 'python.math.sqrt', '{"_args": [16]}'], { cwd })).toEqual({
      code: 0,
      stdout: '4\n',
      stderr: '',
    });
    const median = await runCli(['call', 'python.stats.median', '{"data": [5, 1, 3]}'], { cwd });
    expect(median.stdout).toBe('3\n');
  });

  it('refuses bad arguments with the signature, and exits 1', async () => {
    const bad = await runCli(['call', 'python.math.hypot', '{"x": 1}'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('python.math.hypot');
  });
});
