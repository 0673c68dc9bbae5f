/**
 * One system in a fresh Node process: `node dist/bench/child.js <system> <phase> <options-json>`.
 * Phases: `startup` (start W workers, time to the first answer, idle RSS, PSS and USS of the tree), `workloads`
 * (every workload) and `replace` (snakepit only: a replacement's time after SIGKILL, bench/replacement.ts).
 * Prints one line `RESULT <json>`. A fresh process per system and phase keeps bridges that hold global state
 * (pythonia's singleton, node-calls-python's embedded interpreter) from affecting each other.
 */
import { descendantsMemory } from './lib/memory.js';
import { replacementTimes } from './replacement.js';
import { systemById } from './systems/index.js';
import type { DriverOptions } from './systems/types.js';
import { FULL, QUICK, rssMb, WORKLOADS, type WorkloadName, type WorkloadResult } from './workloads.js';

interface ChildOptions extends DriverOptions {
  quick: boolean;
  workloads?: WorkloadName[];
}

async function startup(options: ChildOptions): Promise<Record<string, unknown>> {
  const spec = systemById(process.argv[2]!);
  const t0 = performance.now();
  const driver = await spec.start(options);
  if ((await driver.add(1, 1)) !== 2) throw new Error('first call answered wrongly');
  const readyMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300)); // let start-up garbage settle before reading RSS
  const workerRss = driver.pythonPids().map(rssMb);
  const hostRssMb = process.memoryUsage().rss / 2 ** 20;
  const tree = descendantsMemory(); // every Python process of the system: workers, and a template if it has one
  await driver.close();
  return {
    readyMs,
    workers: driver.workers,
    workerRssMb: workerRss,
    hostRssMb,
    treePssMb: tree?.pssMb,
    treeUssMb: tree?.ussMb,
  };
}

async function workloads(options: ChildOptions): Promise<Record<string, WorkloadResult>> {
  const spec = systemById(process.argv[2]!);
  const sizes = options.quick ? QUICK : FULL;
  const driver = await spec.start(options);
  const results: Record<string, WorkloadResult> = {};
  try {
    for (let i = 0; i < (options.quick ? 20 : 1000); i++) await driver.add(i, 1); // warm-up
    const names = options.workloads ?? (Object.keys(WORKLOADS) as WorkloadName[]);
    for (const name of names) results[name] = await WORKLOADS[name](driver, sizes);
  } finally {
    await driver.close();
  }
  return results;
}

const phase = process.argv[3];
const options = JSON.parse(process.argv[4] ?? '{}') as ChildOptions;
const result =
  phase === 'startup'
    ? await startup(options)
    : phase === 'replace'
      ? await replacementTimes(options)
      : await workloads(options);
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
// Some bridges keep the event loop alive (that is measured separately); the measurement is done.
process.exit(0);
