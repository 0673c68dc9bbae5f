// What a Ray driver process sends the host is parsed defensively: a driver that breaks its frames (here a stand-in
// bridge whose driver is hostile, so no Ray is needed) fails the pool's start typed, naming the fault, and is
// ended; nothing is thrown from a stream handler, and nothing is left running.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Snakepit, WorkerStartError } from '../../src/index.js';
import { eventually, FIXTURES_PYTHONPATH } from '../helpers.js';
import { alive, driverPids } from '../ray-helpers.js';

const HOSTILE_BRIDGE = join(FIXTURES_PYTHONPATH, '..', 'hostile-ray-bridge');

describe.concurrent('a hostile Ray driver', () => {
  it.each([
    ['placed-not-json', /malformed "P" frame/],
    ['cluster-not-json', /malformed "C" frame/],
    ['exit-not-object', /malformed "X" frame/],
    ['huge-frame', /frame of 1073741824 bytes/],
  ])('%s: start fails typed and the driver is ended', async (mode, why) => {
    const before = new Set(driverPids(process.pid));
    const err = (await Snakepit.start({
      adapter: 'x:Y',
      size: 1,
      logger: false,
      startupTimeoutMs: 20_000,
      python: { bridgePath: HOSTILE_BRIDGE },
      backend: { kind: 'ray', init: { mode } },
    }).catch((e: unknown) => e)) as WorkerStartError;
    expect(err).toBeInstanceOf(WorkerStartError);
    expect(err.message).toMatch(why);
    const mine = driverPids(process.pid).filter((pid) => !before.has(pid));
    await eventually(() => mine.every((pid) => !alive(pid)), 15_000, 'the hostile driver to be ended');
  });
});
