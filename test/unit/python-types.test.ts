/**
 * The bridge type-checks: mypy on python/snakepit_bridge with the settings in python/pyproject.toml ([tool.mypy]
 * states the level). mypy comes with the dev venv (`snakepit setup --dev`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireOptional } from '../helpers.js';

const PYTHON =
  process.env['SNAKEPIT_PYTHON'] ??
  (existsSync('.venv/bin/python') ? resolve('.venv/bin/python') : 'python3');
const hasMypy = spawnSync(PYTHON, ['-c', 'import mypy'], { stdio: 'ignore' }).status === 0;

describe('python/snakepit_bridge types', () => {
  it('passes mypy', { timeout: 120_000 }, () => {
    if (!requireOptional(hasMypy, 'mypy')) return;
    const run = spawnSync(
      PYTHON,
      ['-m', 'mypy', '--no-error-summary', '--cache-dir', join('..', '.mypy_cache')],
      {
        cwd: 'python',
        encoding: 'utf8',
      },
    );
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
