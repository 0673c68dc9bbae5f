// `snakepit dashboard --config FILE` (the configured pools behind a dashboard, until Ctrl-C) and `snakepit top`
// in a real pseudo-terminal (util-linux `script`): it draws in place, follows a workload, shows an injected
// Python error without letting its escape sequences through, survives the dashboard going away, and gives
// the terminal back on `q`.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { commandWorks, getSnapshot } from '../dashboard-helpers.js';
import { alive, requireOptional, SHOWCASE, start } from '../helpers.js';
import { CLI, neutralEnv, REPO, runCli } from './cli-helpers.js';

const hasScript = (): boolean => commandWorks('script');

const ESC = '\u001b';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A process whose output is collected; `waitFor` resolves when the output satisfies a predicate. */
class Collected {
  output = '';
  exit: Promise<number | null>;
  readonly #waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    const onData = (d: Buffer): void => {
      this.output += d.toString('utf8');
      for (const w of this.#waiters) w();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  waitFor(predicate: (output: string) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.output)) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; output so far:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/**
 * `snakepit top ...` in a pseudo-terminal of 120 × 40. With `resizeWhen`, the terminal becomes 70 × 30 once that
 * file exists (changing a terminal's size is what signals SIGWINCH to its programs).
 */
function topInPty(args: string[], resizeWhen?: string): Collected {
  const resize = resizeWhen
    ? `(while [ ! -e ${JSON.stringify(resizeWhen)} ]; do sleep 0.05; done; stty cols 70 rows 30 < /dev/tty) & `
    : '';
  const command = `stty cols 120 rows 40; ${resize}exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} top ${args
    .map((a) => JSON.stringify(a))
    .join(' ')}`;
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: REPO,
    env: { ...neutralEnv(), TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run = new Collected(child);
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return run;
}

/** The frames drawn so far: each starts at the top-left corner (ESC [H). Escape sequences removed. */
function frames(output: string): string[] {
  return (
    output
      .split(`${ESC}[H`)
      .slice(1)
      // eslint-disable-next-line no-control-regex
      .map((f) => f.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, ''))
  );
}

/** Requests per worker id in a frame. */
function served(frame: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of frame.matchAll(/^\s+(top-\d+)\s+\S+\s+\d+\s+process\s+\d+\s+[\d.-]+\s+\S+\s+(\d+)/gm)) {
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

const total = (s: Record<string, number>): number => Object.values(s).reduce((a, b) => a + b, 0);

async function hostWithDashboard(token?: string): Promise<{ pit: Snakepit; url: string; port: number }> {
  const pit = await start({ size: 2, name: 'top' });
  cleanups.push(() => pit.close());
  const dash = await pit.dashboard({ port: 0, intervalMs: 150, ...(token ? { token } : {}) });
  return { pit, url: dash.url, port: dash.port };
}

describe.runIf(requireOptional(hasScript(), 'script (util-linux)', '`apt-get install bsdutils`'))(
  'snakepit top in a pseudo-terminal',
  () => {
    it('draws in place, follows the workload, shows an injected error safely, and quits on q', async () => {
      const token = 'top-test-token-0123456789';
      const { pit, port } = await hostWithDashboard(token);
      const top = topInPty(['--url', `http://127.0.0.1:${port}/`, '--token', token]);
      await top.waitFor((o) => frames(o).some((f) => /top-1/.test(f) && /top-2/.test(f)), 'the first frame');
      expect(top.output.startsWith(`${ESC}[?1049h`)).toBe(true); // the alternate screen
      const before = total(served(frames(top.output).at(-1)!));

      let running = true;
      const load = (async () => {
        while (running)
          await Promise.all(Array.from({ length: 4 }, () => pit.execute('sleep', { seconds: 0.02 })));
      })();
      cleanups.push(() => {
        running = false;
        return load;
      });
      await top.waitFor(
        (o) => total(served(frames(o).at(-1)!)) >= before + 20,
        'the requests column to move',
      );
      await top.waitFor(
        (o) => /queued [1-9]/.test(frames(o).at(-1)!) || /calls\/s [1-9]/.test(frames(o).at(-1)!),
        'load',
      );

      const hostile = `bad ${ESC}]0;pwned${'\u0007'} title ${ESC}[2J end`;
      await pit.execute('error_demo', { message: hostile }).catch(() => {});
      await top.waitFor((o) => /PythonValueError top\/error_demo/.test(frames(o).at(-1)!), 'the error line');
      const last = frames(top.output).at(-1)!;
      expect(last).toMatch(/Traceback \(most recent call last\):/);
      expect(last).toMatch(/in error_demo/);
      // The worker's escape sequences reached the screen as harmless characters only.
      expect(top.output).not.toContain(`${ESC}]0;pwned`);
      expect(top.output).not.toContain('\u0007');
      expect(last).toContain('bad �]0;pwned� title �[2J end');
      // Every frame fits the 120 columns it was given.
      for (const line of last.split('\n')) expect(Array.from(line).length).toBeLessThanOrEqual(120);
      expect(frames(top.output).length).toBeGreaterThan(2);

      running = false;
      await load;
      top.child.stdin!.write('q');
      expect(await top.exit).toBe(0);
      expect(top.output.trimEnd().endsWith(`${ESC}[?1049l`)).toBe(true); // the terminal given back
    });

    it('keeps its screen when the dashboard goes away, and reattaches when it is back', async () => {
      const pit = await start({ size: 1, name: 'top' });
      cleanups.push(() => pit.close());
      let dash = await pit.dashboard({ port: 0, intervalMs: 150 });
      const port = dash.port;
      const top = topInPty(['--url', `127.0.0.1:${port}`]);
      await top.waitFor((o) => frames(o).some((f) => / live/.test(f.split('\n')[0]!)), 'live');
      await dash.close();
      // The last picture stays, with the reason in the title.
      await top.waitFor(
        (o) => frames(o).some((f) => /reconnecting/.test(f.split('\n')[0]!) && /top-1\s+ready/.test(f)),
        'reconnecting, over the last picture',
      );
      dash = await pit.dashboard({ port, intervalMs: 150 });
      cleanups.push(() => dash.close());
      const drawn = top.output.length;
      await top.waitFor(
        (o) => frames(o.slice(drawn)).some((f) => / live/.test(f.split('\n')[0]!)),
        'live again',
      );
      top.child.stdin!.write('\u0003'); // Ctrl-C
      expect(await top.exit).toBe(0);
      expect(top.output.trimEnd().endsWith(`${ESC}[?1049l`)).toBe(true);
    });
  },
);

describe.runIf(hasScript())('snakepit top and the window size', () => {
  it('redraws to fit when the terminal is resized', async () => {
    const { port } = await hostWithDashboard();
    const dir = mkdtempSync(join(tmpdir(), 'snakepit-top-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const flag = join(dir, 'resize');
    const top = topInPty(['--url', `http://127.0.0.1:${port}/`], flag);
    await top.waitFor((o) => frames(o).some((f) => /top-2/.test(f)), 'the first frame');
    const wide = frames(top.output).at(-1)!.split('\n');
    expect(Math.max(...wide.map((l) => Array.from(l).length))).toBeGreaterThan(70);
    const drawn = top.output.length;
    writeFileSync(flag, '');
    await top.waitFor(
      (o) =>
        frames(o.slice(drawn)).some(
          (f) => /top-2/.test(f) && f.split('\n').every((l) => Array.from(l).length <= 70),
        ),
      'a frame of 70 columns',
    );
    top.child.stdin!.write('q');
    expect(await top.exit).toBe(0);
  });
});

describe('snakepit top without a terminal', () => {
  it('--once prints one plain screen; --json the snapshot', async () => {
    const { url } = await hostWithDashboard();
    const once = await runCli(['top', '--url', url, '--once']);
    expect(once.code).toBe(0);
    expect(once.stdout).not.toContain(ESC);
    expect(once.stdout).toMatch(/pool top \[ready\]/);
    expect(once.stdout).toMatch(/top-1\s+ready/);
    const json = await runCli(['top', '--url', url, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ version: 1, pools: [{ name: 'top' }] });
  });

  it('says what to do when nothing listens, or the token is missing', async () => {
    const nothing = await runCli(['top', '--url', 'http://127.0.0.1:1/', '--once']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/nothing is listening at 127\.0\.0\.1:1: start a dashboard/);
    const { port } = await hostWithDashboard('needs-a-token-0123456789');
    const denied = await runCli(['top', '--url', `http://127.0.0.1:${port}/`, '--once']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/answered 401: the dashboard wants its token: pass --token/);
    const fromEnv = await runCli(['top', '--url', `http://127.0.0.1:${port}/`, '--once'], {
      env: { SNAKEPIT_DASHBOARD_TOKEN: 'needs-a-token-0123456789' },
    });
    expect(fromEnv.code).toBe(0);
  });
});

describe('snakepit dashboard --config', () => {
  it("starts the config's pools at their size, serves them, and stops them all on Ctrl-C", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snakepit-dash-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'snakepit.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        pools: [
          { name: 'a', adapter: SHOWCASE, size: 2 },
          { name: 'b', adapter: SHOWCASE, size: 1 },
        ],
      }),
    );
    const child = spawn(process.execPath, [CLI, 'dashboard', '--config', config, '--port', '0'], {
      cwd: REPO,
      env: { ...neutralEnv(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = new Collected(child);
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await run.waitFor((o) => /Ctrl-C stops\n/.test(o), 'the address', 30_000);
    const port = Number(/127\.0\.0\.1:(\d+)\//.exec(run.output)![1]);
    expect(run.output).toMatch(/pools: a, b \(from .*snakepit\.config\.json\); Ctrl-C stops/);
    const snap = await getSnapshot(port);
    expect(snap.pools.map((p) => [p.name, p.workers.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    const pids = snap.pools.flatMap((p) => p.workers.map((w) => w.pid!));
    child.kill('SIGINT');
    await run.exit;
    expect(pids.filter(alive)).toEqual([]);
  });

  it('refuses a bad port and a missing config with what to do', async () => {
    const bad = await runCli(['dashboard', '--port', '80x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--port: must be a port number from 0 to 65535, got 80x/);
    const dir = mkdtempSync(join(tmpdir(), 'snakepit-dash-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const none = await runCli(['dashboard'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no config file: pass --config FILE/);
  });
});
