// `snakepit top`'s screen (src/dashboard/top-view.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printable, renderTop } from '../../src/dashboard/top-view.js';
import { errorEntry, snapshot } from './fake-dashboard.js';

describe('snakepit top screen', () => {
  it('shows pools, workers with their lines, and the newest traceback, within the terminal', () => {
    const lines = renderTop(snapshot(), {
      columns: 100,
      rows: 40,
      source: 'http://x/',
      status: 'live',
      footer: true,
    });
    const text = lines.map((l) => l.text).join('\n');
    expect(text).toMatch(/pool default \[ready\]/);
    expect(text).toMatch(/default-1\s+ready\s+42\s+process\s+0\s+14\.5\s+1m05s\s+5\s+1\s+2/);
    expect(text).toContain('ValueError: bad 2');
    expect(text).toContain('File "a.py", line 1, in boom');
    expect(lines.at(-1)!.text).toBe('q quit');
    for (const l of lines) expect(Array.from(l.text).length).toBeLessThanOrEqual(100);
  });

  it('fits a small terminal: cut lines, errors dropped first', () => {
    const lines = renderTop(snapshot(), {
      columns: 30,
      rows: 12,
      source: 'http://x/',
      status: 'live',
      footer: true,
    });
    expect(lines.length).toBeLessThanOrEqual(12);
    for (const l of lines) expect(Array.from(l.text).length).toBeLessThanOrEqual(30);
    expect(lines.at(-1)!.text).toBe('q quit');
  });

  it('nothing a worker sent can reach the terminal as a control sequence', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ maxLength: 50 }),
        (message, tool) => {
          const s = snapshot({
            errors: [errorEntry(1, { message, tool, traceback: message, errorName: tool })],
          });
          const text = renderTop(s, { columns: 200, rows: 60, source: 'x', status: 'live' })
            .map((l) => l.text)
            .join('');
          // eslint-disable-next-line no-control-regex
          expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
          expect(printable(message)).not.toContain('\u001b');
        },
      ),
    );
  });
});
