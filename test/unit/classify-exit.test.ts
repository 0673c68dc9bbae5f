// classifyExit (src/worker/classify-exit.ts): an exit status and its facts to an exit kind.
import { describe, expect, it } from 'vitest';
import { classifyExit, type ExitFacts } from '../../src/worker/classify-exit.js';

describe('classifyExit', () => {
  const facts = (over: Partial<ExitFacts>): ExitFacts => ({
    exit: { code: null, signal: null },
    stopping: false,
    starting: false,
    hostKill: undefined,
    oomKillsDuringLife: undefined,
    ...over,
  });
  it.each<[Partial<ExitFacts>, string]>([
    [{ exit: { code: 0, signal: null } }, 'clean_exit'],
    [{ exit: { code: 3, signal: null } }, 'error_exit'],
    [{ exit: { code: null, signal: 'SIGSEGV' } }, 'crash_signal'],
    [{ exit: { code: null, signal: 'SIGABRT' } }, 'crash_signal'],
    [{ exit: { code: null, signal: 'SIGBUS' } }, 'crash_signal'],
    [{ exit: { code: null, signal: 'SIGKILL' } }, 'killed'],
    [{ exit: { code: null, signal: 'SIGKILL' }, oomKillsDuringLife: 0 }, 'killed'],
    [{ exit: { code: null, signal: 'SIGKILL' }, oomKillsDuringLife: 1 }, 'oom_kill'],
    [{ exit: { code: null, signal: 'SIGTERM' } }, 'killed'],
    [{ exit: { code: null, signal: 'SIGKILL' }, hostKill: 'hang_kill' }, 'hang_kill'],
    [{ exit: { code: null, signal: 'SIGKILL' }, hostKill: 'timeout_kill' }, 'timeout_kill'],
    [{ exit: { code: null, signal: 'SIGKILL' }, hostKill: 'protocol_kill' }, 'protocol_kill'],
    [{ exit: { code: 0, signal: null }, stopping: true }, 'stopped'],
    [{ exit: { code: null, signal: 'SIGKILL' }, stopping: true }, 'stopped'],
    [{ exit: { code: 3, signal: null }, starting: true }, 'start_failed'],
  ])('%j -> %s', (over, kind) => {
    expect(classifyExit(facts(over))).toBe(kind);
  });
});
