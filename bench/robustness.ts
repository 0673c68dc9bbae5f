/**
 * The robustness table: what each system does when the worker dies mid-call, when a call hangs, when Python raises,
 * and whether Node exits when idle. Every cell is observed here, from a child process, never written by hand.
 */
import { alive, runChild } from './lib/children.js';

export type Scenario = 'die' | 'hang' | 'raise' | 'idle-exit';
export const SCENARIOS: Scenario[] = ['die', 'hang', 'raise', 'idle-exit'];

export interface Cell {
  /** Handled well (what a production library should do). */
  good: boolean;
  text: string;
}

const ms = (v: unknown): string => `${Math.round(Number(v))} ms`;

export async function observe(systemId: string, scenario: Scenario, options: object): Promise<Cell> {
  const deadline = scenario === 'idle-exit' ? 6000 : 9000;
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
