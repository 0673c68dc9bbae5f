// The runnable examples of docs/SESSIONS.md stay runnable: each runs to exit code 0 (built by `npm test`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe.each([
  ['sessions', ['recall in user-1 → Ada', 'total = 30', 'only valid in its own session', 'lost its worker']],
  ['streaming', ['count: 100000 chunks in order', 'progress: { total: 3 }', 'aborted: true']],
])('examples/%s.ts', (name, expected) => {
  const script = `dist/examples/${name}.js`;
  it('runs to completion', () => {
    expect(existsSync(script), `${script} is missing: run \`npm run build\` first`).toBe(true);
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    for (const text of expected) expect(run.stdout).toContain(text);
  });
});
