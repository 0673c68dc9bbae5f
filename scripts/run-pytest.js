#!/usr/bin/env node
// Runs the Python bridge's own tests (python/tests) with the interpreter the workers use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const python =
  process.env.SNAKEPIT_PYTHON || (existsSync('.venv/bin/python') ? '.venv/bin/python' : 'python3');
const result = spawnSync(python, ['-m', 'pytest', '-q', '-rs', 'python/tests', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (result.error) {
  console.error(`cannot run ${python}: ${result.error.message} (run \`npx snakepit setup --dev\`)`);
  process.exit(1);
}
process.exit(result.status ?? 1);
