// An idle worker imports only what it uses (docs/PERFORMANCE.md, "Targets": idle worker RSS). RSS varies by machine, so this checks
// the cause instead: after start-up and a sync call, modules the bridge loads on demand are not in sys.modules —
// unless the interpreter loads them on its own (site, .pth files), which a bare `python -c` tells us.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { SnakepitEvents } from '../../src/index.js';
import { eventually, start } from '../helpers.js';

const ADAPTER = 'snakepit_fixtures.lean:LeanAdapter';

// Each is loaded on first use: argparse (only for a command line the host never sends), logging (when something
// imports it), traceback (the first error), typing (hints beyond builtin classes), asyncio (the first async tool),
// numpy and OpenTelemetry (never by the bridge unless a value or a traced call needs them), inspect with ast, dis
// and tokenize (only for a tool whose signature its code object does not give: python/snakepit_bridge/signature.py).
// ctypes, runpy, queue and heapq are never loaded by a start (docs/PERFORMANCE.md, "Start of one worker"): the
// parent-death signal and the heap trim go through _ctypes (dispatch/libc.py), the host runs the bridge with
// `-c` instead of `-m` (src/worker/worker-spawn.ts), the worker's queue is _queue's SimpleQueue. Nor signal (the
// worker and the template use _signal) or the bridge's tools for references and session moves (loaded by the
// first call that names one). contextlib is left out by the bridge too, but this adapter (the showcase's) imports
// importlib, which imports it: python/tests/test_lean_startup.py checks it with an adapter that does not.
const LAZY = [
  'signal',
  'snakepit_bridge.dispatch.ref_tools',
  'snakepit_bridge.dispatch.session_tools',
  'ctypes',
  'runpy',
  'queue',
  'heapq',
  'inspect',
  'ast',
  'dis',
  'tokenize',
  'argparse',
  'logging',
  'traceback',
  'typing',
  'asyncio',
  'concurrent.futures',
  'snakepit_bridge.dispatch.aio',
  'numpy',
  'opentelemetry',
];

interface Loaded {
  modules: string[];
  executable: string;
}

function interpreterOwn(executable: string): Set<string> {
  const out = execFileSync(executable, ['-c', 'import sys; print("\\n".join(sys.modules))']).toString();
  return new Set(out.split('\n').filter(Boolean));
}

describe('idle worker footprint', () => {
  // The template's workers (the default on Linux) and a cold worker import differently: each is checked.
  it.each([
    ['from the template', undefined],
    ['cold', false],
  ])('has not imported what it loads on demand after start-up and a sync call (%s)', async (_, template) => {
    const pit = await start({ adapter: ADAPTER, size: 1, ...(template === undefined ? {} : { template }) });
    try {
      expect(await pit.execute('add', { a: 1, b: 2 })).toBe(3);
      const loaded = await pit.execute<Loaded>('loaded_modules');
      const own = interpreterOwn(loaded.executable);
      const unexpected = LAZY.filter((m) => !own.has(m) && loaded.modules.includes(m));
      expect(unexpected).toEqual([]);

      // The check can fail: an async call loads asyncio and the event-loop thread's module.
      expect(await pit.execute('nap', { seconds: 0 })).toBe(0);
      const after = await pit.execute<Loaded>('loaded_modules');
      expect(after.modules).toEqual(expect.arrayContaining(['asyncio', 'snakepit_bridge.dispatch.aio']));
    } finally {
      await pit.close();
    }
  });

  it('forwards logging records when logging is first imported during a call', async () => {
    const pit = await start({ adapter: ADAPTER, size: 1 });
    const events: Array<SnakepitEvents['log']> = [];
    pit.on('log', (e) => events.push(e));
    try {
      const said = await pit.execute<{
        imported_before: boolean;
        root_level: number;
        handlers: string[];
        record_cid: string | null;
      }>('log_first', { text: 'first words' }, { correlationId: 'req-lean' });
      expect(said).toEqual({
        imported_before: false,
        root_level: 20, // INFO, as the worker sets it
        handlers: ['LogForwarder'],
        record_cid: 'req-lean',
      });
      await eventually(() => events.some((e) => e.line.includes('first words')), 5000, 'the log event');
      expect(events.find((e) => e.line.includes('first words'))).toMatchObject({
        stream: 'logging',
        level: 'warn',
        logger: 'lean',
        correlationId: 'req-lean',
      });
    } finally {
      await pit.close();
    }
  });
});
