// setup's progress display: a redrawn status line on a terminal, plain lines (no control characters) in a log.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/cli/progress.js';

function stream(isTTY: boolean): { isTTY: boolean; columns: number; out: string[]; write(t: string): void } {
  const out: string[] = [];
  return { isTTY, columns: 40, out, write: (t: string) => void out.push(t) };
}

describe('Progress', () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());
  const now = (): number => clock;
  const advance = (ms: number): void => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };

  it('on a TTY: a spinner with the seconds so far and the latest installer line, cleared before each step', () => {
    const s = stream(true);
    const p = new Progress({ stream: s, mark: '›', now });
    p.status('Collecting numpy');
    advance(1_000);
    const frame = s.out.at(-1)!;
    expect(frame.startsWith('\r\u001b[K')).toBe(true);
    expect(frame.slice(4)).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 1 s {2}Collecting numpy$/);
    p.status('Downloading numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.whl (19.5 MB)');
    advance(100);
    expect(s.out.at(-1)!.replace('\r\u001b[K', '').length).toBeLessThanOrEqual(39); // cut to the terminal
    p.step('installing numpy');
    expect(s.out.slice(-2)).toEqual(['\r\u001b[K', '› installing numpy\n']);
    p.stop();
    const count = s.out.length;
    advance(5_000);
    expect(s.out.length).toBe(count); // stopped: nothing more is drawn
  });

  it('in a log: steps as lines, a "still working" line after each quiet stretch, no control characters', () => {
    const s = stream(false);
    const p = new Progress({ stream: s, mark: '›', now, quietMs: 30_000 });
    p.step('installing numpy');
    p.status('Collecting numpy'); // not printed in a log
    advance(29_000);
    expect(s.out).toEqual(['› installing numpy\n']);
    advance(2_000);
    expect(s.out.at(-1)).toBe('  … still working (31 s)\n');
    advance(30_000);
    expect(s.out.at(-1)).toBe('  … still working (61 s)\n');
    p.stop();
    expect(s.out.join('')).not.toContain('\r');
    expect(s.out.join('')).not.toContain('\u001b');
  });
});
