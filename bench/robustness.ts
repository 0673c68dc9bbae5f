/**
 * The robustness table: what each system does when the worker dies mid-call, when a call hangs, when Python raises,
 * whether Node exits when idle, what a call that kills its worker (or hangs past its timeout) does to the calls
 * around it, whether a session's state survives a planned worker replacement, whether a pool heals once the cause
 * of a failed start is fixed, and whether a pool that cannot start stops a healthy one. Every cell is observed here, from a child process, never written by hand (a system without the feature
 * says so through its driver, and the cell reads "n/a").
 */
import { alive, runChild } from './lib/children.js';

export type Scenario =
  | 'die'
  | 'hang'
  | 'raise'
  | 'idle-exit'
  | 'neighbour'
  | 'hung-neighbour'
  | 'recycle-session'
  | 'heal'
  | 'broken-beside-healthy';
export const SCENARIOS: Scenario[] = [
  'die',
  'hang',
  'raise',
  'idle-exit',
  'neighbour',
  'hung-neighbour',
  'recycle-session',
  'heal',
  'broken-beside-healthy',
];

/** What each scenario is called in the table. */
export const SCENARIO_LABELS: Record<Scenario, string> = {
  die: 'worker dies mid-call',
  hang: 'call hangs past its timeout',
  raise: 'Python raises',
  'idle-exit': 'idle Node exits',
  neighbour: 'poisoned neighbour: 1 call kills its worker among 40',
  'hung-neighbour': 'hung neighbour: 1 call hangs past its 500 ms timeout among 40',
  'recycle-session': 'recycle under a live session',
  heal: 'a pool heals once a failed start is fixed',
  'broken-beside-healthy': 'one pool cannot start beside a healthy one',
};

export interface Cell {
  /** Handled well (what a production library should do). */
  good: boolean;
  text: string;
  /** The system has no such feature (no sessions, no supervised workers): neither well nor badly handled. */
  na?: boolean;
}

const ms = (v: unknown): string => `${Math.round(Number(v))} ms`;

export async function observe(systemId: string, scenario: Scenario, options: object): Promise<Cell> {
  const deadline =
    scenario === 'idle-exit'
      ? 6000
      : scenario === 'heal' || scenario === 'broken-beside-healthy'
        ? 20_000
        : 9000;
  const run = await runChild('robust-child.js', [systemId, scenario, JSON.stringify(options)], deadline);
  const ev = (what: string): Record<string, unknown> | undefined =>
    run.events.find((e) => e['what'] === what);
  const started = ev('started');
  if (!started)
    return { good: false, text: `did not start (${run.stderr.split('\n').find(Boolean) ?? 'no output'})` };
  const pids = (started['pids'] as number[]) ?? [];
  await new Promise((r) => setTimeout(r, 500));
  const orphans = pids.filter(alive);
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const orphanNote = orphans.length ? `; left ${orphans.length} Python process(es) running` : '';

  switch (scenario) {
    case 'die': {
      const rejected = ev('rejected');
      const next = ev('next-call');
      if (!rejected && !ev('resolved')) {
        if (!run.timedOut)
          return {
            good: false,
            text: `the host process died too (exit ${run.code ?? run.signal})${orphanNote}`,
          };
        return { good: false, text: `hangs: no answer after ${deadline / 1000} s${orphanNote}` };
      }
      if (!rejected) return { good: false, text: 'the call resolved as if nothing happened' };
      const recovered = next?.['ok'] ? `; next call served in ${ms(next['ms'])}` : '; next call fails';
      return {
        good: Boolean(next?.['ok']) && !orphans.length,
        text: `rejects in ${ms(rejected['ms'])} (${String(rejected['name'])})${recovered}${orphanNote}`,
      };
    }
    case 'hang': {
      if (ev('no-timeout')) {
        return {
          good: false,
          text: `no timeout option: ${ev('still-pending') ? 'still pending after 3 s' : 'no answer'}${orphanNote}`,
        };
      }
      const rejected = ev('rejected');
      const next = ev('next-call');
      if (!rejected) return { good: false, text: run.timedOut ? 'the timeout never fired' : 'resolved?' };
      const freed =
        next?.['ok'] && Number(next['ms']) < 2000
          ? `; worker free again (next call ${ms(next['ms'])})`
          : `; worker still busy (next call ${next ? ms(next['ms']) : 'never answered'})`;
      return {
        good: Boolean(next?.['ok']) && Number(next?.['ms']) < 2000,
        text: `rejects after ${ms(rejected['ms'])}${freed}${orphanNote}`,
      };
    }
    case 'raise': {
      const r = ev('rejected');
      if (!r) return { good: false, text: run.timedOut ? 'hangs' : 'no error surfaced' };
      const kept = [
        r['hasType'] && 'type',
        r['hasMessage'] && 'message',
        r['hasTraceback'] && 'traceback',
      ].filter(Boolean);
      const structured = r['pythonType']
        ? ` as ${String(r['name'])} (pythonType ${String(r['pythonType'])})`
        : ` as ${String(r['name'])} (text only)`;
      return { good: kept.length === 3, text: `keeps ${kept.join(' + ') || 'nothing'}${structured}` };
    }
    case 'neighbour': {
      const n = ev('neighbours');
      if (!n) {
        return {
          good: false,
          text: run.timedOut
            ? `hangs${orphanNote}`
            : `the host process died too (exit ${run.code ?? run.signal})`,
        };
      }
      const p = ev('poisoned');
      const answered = p !== undefined && !p['pending'];
      const poisoned = answered
        ? `the poisoned call: ${String(p['name'])}`
        : 'the poisoned call never answered';
      const ok = Number(n['ok']);
      const good = ok === 40 && answered && !orphans.length;
      const lost = [
        Number(n['failed']) ? `${String(n['failed'])} failed` : '',
        Number(n['pending']) ? `${String(n['pending'])} never answered` : '',
      ].filter(Boolean);
      return {
        good,
        text: `${ok} of 40 answered${lost.length ? `, ${lost.join(', ')}` : ` (in ${ms(n['ms'])})`}; ${poisoned}${orphanNote}`,
      };
    }
    case 'hung-neighbour': {
      const n = ev('neighbours');
      if (!n) return { good: false, text: run.timedOut ? `hangs${orphanNote}` : 'no answer' };
      const p = ev('hung');
      const hung = ev('no-timeout')
        ? 'no timeout option: the hung call runs on'
        : p === undefined || p['pending']
          ? 'the hung call never answered'
          : p['error']
            ? `the hung call: ${String(p['name'])} after ${ms(p['ms'])}`
            : 'the hung call resolved?';
      const ok = Number(n['ok']);
      const lost = [
        Number(n['failed']) ? `${String(n['failed'])} failed` : '',
        Number(n['pending']) ? `${String(n['pending'])} not answered within 4 s` : '',
      ].filter(Boolean);
      return {
        good: ok === 40 && Number(n['ms']) < 2000 && Boolean(p?.['error']) && !orphans.length,
        text: `${ok} of 40 answered${lost.length ? `, ${lost.join(', ')}` : `, the last after ${ms(n['ms'])}`}; ${hung}${orphanNote}`,
      };
    }
    case 'broken-beside-healthy': {
      if (ev('unsupported')) return { good: false, na: true, text: 'no pools of workers' };
      const r = ev('resolved');
      if (!r) {
        const e = ev('rejected');
        return {
          good: false,
          text: e ? `fails: ${String(e['name'])}: ${String(e['message'])}` : 'no answer',
        };
      }
      const good = Boolean(r['healthyOk']) && r['brokenError'] !== 'none';
      return {
        good,
        text:
          `startPolicy "available": the healthy pool serves (${r['healthyOk'] ? 'answered' : 'failed'} in ${ms(r['healthyMs'])}), ` +
          `the broken one fails fast (${String(r['brokenError'])}, in ${ms(r['brokenMs'])}); ` +
          `the default ("all") refuses to start (${String(r['defaultPolicy'])})`,
      };
    }
    case 'recycle-session': {
      if (ev('unsupported')) return { good: false, na: true, text: 'no sessions or worker recycling' };
      const r = ev('resolved');
      if (!r) {
        const e = ev('rejected');
        return { good: false, text: e ? `fails: ${String(e['name'])}` : 'no answer' };
      }
      const kept = Number(r['after']) === Number(r['before']) + 1;
      return {
        good: kept,
        text: kept
          ? `state kept: the counter went ${String(r['before'])} → ${String(r['after'])} across the replacement`
          : `state lost: the counter went ${String(r['before'])} → ${String(r['after'])}`,
      };
    }
    case 'heal': {
      if (ev('unsupported')) return { good: false, na: true, text: 'no supervised workers to restart' };
      const r = ev('resolved');
      if (!r) {
        const e = ev('rejected');
        return {
          good: false,
          text: e ? `fails: ${String(e['name'])}: ${String(e['message'])}` : 'never healed',
        };
      }
      return {
        good: true,
        text: `while broken a call fails (${String(r['brokenError'])}, in ${ms(r['brokenMs'])}); serving again ${ms(r['healedMs'])} after the fix, by itself`,
      };
    }
    case 'idle-exit': {
      if (!ev('idle')) return { good: false, text: 'did not reach idle' };
      if (run.timedOut)
        return {
          good: false,
          text: `Node stays alive while idle (killed after ${deadline / 1000} s)${orphanNote}`,
        };
      return {
        good: !orphans.length,
        text: `Node exits by itself (${ms(run.exitAfterLastEventMs)})${orphanNote}`,
      };
    }
  }
}
