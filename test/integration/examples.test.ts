// The runnable examples of the guides (docs/SESSIONS.md, TOOL_BRIDGE.md, GENERIC_ADAPTER.md, TELEMETRY.md) stay runnable: each runs to exit code 0 (built by `npm test`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe.each([
  ['sessions', ['recall in user-1 → Ada', 'total = 30', 'only valid in its own session', 'lost its worker']],
  ['streaming', ['count: 100000 chunks in order', 'progress: { total: 3 }', 'aborted: true']],
  [
    'generic-libraries',
    ['python.stats.mean    = 13.157142857142857', 'expected mean(data)', '(an alias of dumps)'],
  ],
  [
    'tool-bridge',
    [
      'lookupUser from Python → Ada, avatar 4 bytes',
      'fragile → HostToolError',
      'args.amount: Invalid input',
      'missing → UnknownHostToolError',
      'means 2, 4, 6, 8',
      'tenant-b → UnknownHostToolError',
      'add(a="one") → argument a: expected number',
    ],
  ],
  ['tracing', ['python correlation id: req-42', 'traceparent names the call span: yes']],
  [
    'metrics-endpoint',
    ['snakepit_requests_total{pool="default"} 52', 'snakepit_stream_chunks_total{pool="default"} 10'],
  ],
])('examples/%s.ts', (name, expected) => {
  const script = `dist/examples/${name}.js`;
  it('runs to completion', () => {
    expect(existsSync(script), `${script} is missing: run \`npm run build\` first`).toBe(true);
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    for (const text of expected) expect(run.stdout).toContain(text);
  });
});
