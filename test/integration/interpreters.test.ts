// The bridge on the oldest and newest Python we support, with the standard library only (so the JSON codec).
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonValueError } from '../../src/index.js';
import { findExecutable } from '../../src/python/interpreter.js';
import { start } from '../helpers.js';

/** python3.X on PATH, or pyenv's copy of it (pyenv's shims only answer for the selected versions). */
function findPython(minor: string): string | undefined {
  const onPath = findExecutable(`python${minor}`);
  const pyenv = join(process.env['PYENV_ROOT'] ?? join(homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    for (const entry of readdirSync(pyenv)) {
      const exe = join(pyenv, entry, 'bin', `python${minor}`);
      if (entry.startsWith(`${minor}.`) && existsSync(exe)) return exe;
    }
  }
  return onPath && !onPath.includes('/shims/') ? onPath : undefined;
}

const interpreters = ['3.9', '3.13'].map((minor) => [minor, findPython(minor)] as const);
for (const [minor, exe] of interpreters) {
  if (!exe)
    console.warn(
      `skipping the Python ${minor} tests: python${minor} not found (on PATH or under ~/.pyenv/versions)`,
    );
}

describe.each(interpreters)('Python %s', (minor, executable) => {
  it.runIf(executable)('runs calls, errors and streams', async () => {
    const pit = await start({ size: 1, python: { executable: executable! } });
    try {
      const info = (await pit.execute('info')) as { python: string };
      expect(info.python.startsWith(`${minor}.`)).toBe(true);
      expect(await pit.execute('echo', { b: Buffer.from([1, 2]), n: 2n ** 64n, f: 1.5 })).toEqual({
        b: Buffer.from([1, 2]),
        n: 2n ** 64n,
        f: 1.5,
      });
      await expect(pit.execute('error_demo', { error_type: 'ValueError' })).rejects.toBeInstanceOf(
        PythonValueError,
      );
      const chunks: unknown[] = [];
      for await (const c of pit.executeStream('count', { n: 3 })) chunks.push(c);
      expect(chunks).toHaveLength(3);
    } finally {
      await pit.close();
    }
  });

  it.runIf(executable)('answers heartbeats (and expects them) without being mistaken for hung', async () => {
    const pit = await start({
      size: 1,
      python: { executable: executable! },
      heartbeat: { intervalMs: 100, timeoutMs: 1_000, hostTimeoutMs: 1_000 },
    });
    try {
      const pid = pit.workers()[0]!.pid;
      await new Promise((r) => setTimeout(r, 2_000)); // past both timeouts, on heartbeats alone
      expect(pit.workers().map((w) => [w.pid, w.state])).toEqual([[pid, 'ready']]);
      expect(await pit.execute('ping')).toMatchObject({ status: 'ok' });
    } finally {
      await pit.close();
    }
  });
});
