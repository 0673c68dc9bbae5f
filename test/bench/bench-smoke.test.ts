// The benchmark harness, at tiny sizes: every workload gives correct answers on every system (no timing claims),
// and the robustness scenarios observe what snakepit promises. Keeps `npm run bench` from rotting.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChild } from '../../bench/lib/children.js';
import { observe, SCENARIOS } from '../../bench/robustness.js';
import { SYSTEMS } from '../../bench/systems/index.js';
import { WORKLOADS, type WorkloadResult } from '../../bench/workloads.js';
import { resolvePython } from '../../src/python-env/interpreter.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const options = {
  python: resolvePython(undefined).executable,
  pythonDir: join(root, 'bench', 'python'),
  workers: 2,
  quick: true,
};
const available = await Promise.all(SYSTEMS.map(async (s) => [s, await s.unavailable()] as const));

describe.each(available)('bench smoke: $0.label', (system, unavailable) => {
  if (unavailable) console.warn(`skipping ${system.label} in the bench smoke test: ${unavailable}`);

  it.runIf(!unavailable)('answers every workload correctly', async () => {
    const run = await runChild('child.js', [system.id, 'workloads', JSON.stringify(options)], 120_000);
    expect(run.result, run.stderr).toBeDefined();
    const results = run.result as Record<string, WorkloadResult>;
    expect(Object.keys(results).sort()).toEqual(Object.keys(WORKLOADS).sort());
    for (const [name, r] of Object.entries(results)) {
      expect(r.ok || r.na, `${system.id} ${name}: ${r.note}`).toBe(true);
      if (r.na) expect(r.note, `${name} n/a needs a reason`).toBeTruthy();
    }
  });

  it.runIf(!unavailable)('starts and reports idle memory', async () => {
    const run = await runChild(
      'child.js',
      [system.id, 'startup', JSON.stringify({ ...options, workers: 1 })],
      60_000,
    );
    const r = run.result as { readyMs: number; hostRssMb: number } | undefined;
    expect(r, run.stderr).toBeDefined();
    expect(r!.readyMs).toBeGreaterThan(0);
    expect(r!.hostRssMb).toBeGreaterThan(0);
  });
});

describe('bench robustness scenarios observe snakepit', () => {
  it.each(SCENARIOS)('%s is handled', async (scenario) => {
    const cell = await observe('snakepit-msgpack', scenario, options);
    expect(cell.good, cell.text).toBe(true);
  });
});
