// The process registry and the orphan sweep, with real processes standing in for workers and hosts: what is
// swept, and — as important — what is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { sweepOrphans } from '../../src/orphans/orphan-sweep.js';
import {
  checkRegistryDir,
  ProcessRegistry,
  type RunRecord,
  writeFileAtomically,
  type WriteIo,
} from '../../src/orphans/process-registry.js';
import { isRunning, processFacts, readRssBytes } from '../../src/util/proc.js';
import { silentLogger } from '../../src/util/logger.js';
import { recordingLogger } from '../helpers.js';

const spawned: ChildProcess[] = [];
afterEach(() => {
  for (const child of spawned.splice(0)) child.kill('SIGKILL');
});

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'snakepit-test-registry-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const SLEEP = 'setTimeout(() => {}, 60_000)';

/**
 * A long-lived process whose command line looks like a worker of `runId` (a sleeping Node), carrying the run's
 * marker in its environment unless `marked` is false (a stranger that only reuses a recorded pid).
 */
function fakeWorker(runId: string, detached = true, marked = true): ChildProcess {
  const child = spawn(process.execPath, ['-e', SLEEP, '--', '-m', 'snakepit_bridge', '--run-id', runId], {
    stdio: 'ignore',
    detached,
    env: marked ? { ...process.env, SNAKEPIT_RUN_ID: runId } : process.env,
  });
  spawned.push(child);
  return child;
}

/** Resolves once Node has seen the child exit (a zombie already counts as gone for the sweep). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** The pid and start time of a host that has exited. */
async function deadHost(): Promise<{ pid: number; startTime: string | undefined }> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 200)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 50));
  const startTime = processFacts(child.pid!)?.startTime;
  await new Promise((r) => child.once('exit', r));
  return { pid: child.pid!, startTime };
}

function writeRecord(registryDir: string, record: RunRecord): void {
  writeFileSync(join(registryDir, `run-${record.runId}.json`), JSON.stringify(record));
}

async function record(
  runId: string,
  host: { pid: number; startTime: string | undefined },
  workers: ChildProcess[],
) {
  await new Promise((r) => setTimeout(r, 100)); // let the exec happen, so the command line is Python's
  return {
    version: 1,
    runId,
    hostPid: host.pid,
    hostStartTime: host.startTime,
    createdAt: new Date().toISOString(),
    workers: Object.fromEntries(
      workers.map((w, i) => [
        `p-${i}`,
        { pid: w.pid!, pool: 'p', startTime: processFacts(w.pid!)?.startTime },
      ]),
    ),
  } satisfies RunRecord;
}

describe('process facts', () => {
  it('reads our own process: command line, start time, resident memory', () => {
    const me = processFacts(process.pid)!;
    expect(me.cmdline).toContain('node');
    expect(me.startTime).toMatch(/\S/);
    expect(isRunning(process.pid)).toBe(true);
    if (process.platform === 'linux') expect(readRssBytes(process.pid)).toBeGreaterThan(10 * 1024 * 1024);
    expect(processFacts(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe('ProcessRegistry', () => {
  it('records workers as they come and go, atomically, and removes its file on close', () => {
    const d = dir();
    const reg = ProcessRegistry.open(d, 'abc12345', silentLogger)!;
    const read = (): RunRecord => JSON.parse(readFileSync(reg.file, 'utf8')) as RunRecord;
    expect(read()).toMatchObject({ version: 1, runId: 'abc12345', hostPid: process.pid, workers: {} });
    reg.add('p-1', 'p', process.pid);
    expect(read().workers['p-1']).toEqual({
      pid: process.pid,
      pool: 'p',
      startTime: processFacts(process.pid)!.startTime,
    });
    reg.remove('p-1');
    expect(read().workers).toEqual({});
    expect(readdirSync(d)).toEqual(['run-abc12345.json']); // no temporary file left
    reg.close();
    expect(readdirSync(d)).toEqual([]);
  });

  it('refuses a directory that is not ours to trust, with a warning, and runs without a registry', () => {
    const d = dir();
    writeFileSync(join(d, 'file'), '');
    expect(checkRegistryDir(join(d, 'file'))).toMatch(/not a directory|cannot use/);
    mkdirSync(join(d, 'open'));
    chmodSync(join(d, 'open'), 0o777);
    expect(checkRegistryDir(join(d, 'open'))).toMatch(/writable by other users/);
    symlinkSync(join(d, 'open'), join(d, 'link'));
    expect(checkRegistryDir(join(d, 'link'))).toMatch(/not a directory/);
    const logger = recordingLogger();
    expect(ProcessRegistry.open(join(d, 'open'), 'r', logger)).toBeUndefined();
    expect(logger.lines[0]!.msg).toMatch(/process registry disabled: .*writable by other users/);
  });
});

describe('the registry on a full disk', () => {
  /** Real file operations, except that `writeSync` fails with ENOSPC after writing `budget` bytes. */
  function diskWithRoom(budget: number): WriteIo {
    let room = budget;
    return {
      openSync,
      closeSync,
      renameSync,
      unlinkSync,
      writeSync: (fd, data, offset, length) => {
        if (room <= 0)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        const n = writeSync(fd, data, offset, Math.min(length, room));
        room -= n;
        return n;
      },
    };
  }

  it('a write that fails part way removes its temporary file and leaves the last complete record', () => {
    const d = dir();
    const file = join(d, 'run-x.json');
    writeFileAtomically(file, `${file}.1.tmp`, '{"complete":1}');
    expect(() => writeFileAtomically(file, `${file}.1.tmp`, '{"complete":2}', diskWithRoom(5))).toThrow(
      /ENOSPC/,
    );
    expect(readdirSync(d)).toEqual(['run-x.json']);
    expect(readFileSync(file, 'utf8')).toBe('{"complete":1}');
    const renameFails: WriteIo = {
      ...diskWithRoom(1_000),
      renameSync: () => {
        throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
      },
    };
    expect(() => writeFileAtomically(file, `${file}.1.tmp`, '{"complete":3}', renameFails)).toThrow(/EIO/);
    expect(readdirSync(d)).toEqual(['run-x.json']);
    writeFileAtomically(file, `${file}.1.tmp`, '{"complete":4}');
    expect(readFileSync(file, 'utf8')).toBe('{"complete":4}');
  });

  it('on a real full tmpfs: no temporary file is left, the record stays whole, and it is written again once there is room', (ctx) => {
    const d = dir();
    const script = join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      'fixtures',
      'hosts',
      'registry-full-disk.ts',
    );
    const run = spawnSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        `mount -t tmpfs -o size=16k,mode=0700 tmpfs "$1" && exec "$2" --import tsx "$3" "$1"`,
        'sh',
        d,
        process.execPath,
        script,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    // Needs root (or CAP_SYS_ADMIN) and util-linux's unshare; the injected-failure case above runs everywhere.
    const cannot = run.error?.message ?? (run.status !== 0 ? run.stderr : '');
    if (/unshare|mount|permission|not permitted|ENOENT/i.test(cannot) && !run.stdout) {
      console.warn(`skipping the tmpfs case: cannot mount a private tmpfs here (${cannot.trim()})`);
      return ctx.skip();
    }
    expect(run.stderr).toBe('');
    const seen = JSON.parse(run.stdout) as {
      recorded: number;
      failedAt: number | undefined;
      leftovers: string[];
      afterFailure: { workers: number; files: string[] };
      afterFreeing: { workers: number; files: string[] };
      warnings: string[];
      end: string[];
    };
    expect(seen.failedAt).toBeGreaterThan(0); // the disk did fill up
    expect(seen.leftovers).toEqual([]); // no .tmp after any write, failed or not
    expect(seen.afterFailure).toEqual({ workers: seen.recorded, files: ['filler', 'run-fulldisk.json'] });
    expect(seen.afterFreeing.workers).toBe(seen.failedAt! + 2); // everything, the ones that did not fit too
    expect(seen.warnings).toHaveLength(1); // once per streak of failures
    expect(seen.warnings[0]).toMatch(/ENOSPC.*keeps its last complete version/);
    expect(seen.end).toEqual([]);
  });

  it('the sweep removes temporary files whose writer is gone, and only those', async () => {
    const d = dir();
    const gone = await deadHost();
    writeFileSync(join(d, `run-dead.json.${gone.pid}.tmp`), '{"half');
    writeFileSync(join(d, `run-live.json.${process.pid}.tmp`), '{"being written');
    await sweepOrphans(d, { logger: silentLogger });
    expect(readdirSync(d)).toEqual([`run-live.json.${process.pid}.tmp`]);
  });
});

describe('sweepOrphans', () => {
  it('stops the recorded workers of a dead host (SIGTERM first) and removes its record', async () => {
    const d = dir();
    const workers = [fakeWorker('deadrun1'), fakeWorker('deadrun1')];
    writeRecord(d, await record('deadrun1', await deadHost(), workers));
    const logger = recordingLogger();
    const result = await sweepOrphans(d, { logger });
    expect(result.runs).toEqual(['deadrun1']);
    expect(result.pids.sort()).toEqual(workers.map((w) => w.pid!).sort());
    expect(result.killed).toEqual([]); // SIGTERM was enough
    await Promise.all(workers.map(exited));
    expect(workers.map((w) => w.signalCode)).toEqual(['SIGTERM', 'SIGTERM']);
    expect(readdirSync(d)).toEqual([]);
    expect(logger.lines.some((l) => /died without stopping its workers/.test(l.msg))).toBe(true);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const d = dir();
    const stubborn = spawn(
      process.execPath,
      ['-e', `process.on('SIGTERM', () => {}); ${SLEEP}`, '--', 'snakepit_bridge', '--run-id', 'deadrun2'],
      { stdio: 'ignore', detached: true },
    );
    spawned.push(stubborn);
    writeRecord(d, await record('deadrun2', await deadHost(), [stubborn]));
    await new Promise((r) => setTimeout(r, 200)); // the handler is installed
    const result = await sweepOrphans(d, { logger: silentLogger, graceMs: 300 });
    expect(result.killed).toEqual([stubborn.pid]);
    await exited(stubborn);
    expect(stubborn.signalCode).toBe('SIGKILL');
  });

  it('never touches the workers of a live host, a pid now used by another program, or a restarted pid', async () => {
    const d = dir();
    const live = fakeWorker('liverun');
    writeRecord(
      d,
      await record('liverun', { pid: process.pid, startTime: processFacts(process.pid)!.startTime }, [live]),
    );
    const stranger = spawn(process.execPath, ['-e', SLEEP], { stdio: 'ignore' });
    spawned.push(stranger);
    writeRecord(d, await record('strangerrun', await deadHost(), [stranger]));
    const restarted = fakeWorker('restartrun', true, false);
    const rec = await record('restartrun', await deadHost(), [restarted]);
    rec.workers['p-0']!.startTime = '1'; // the recorded worker started at another time: this is a new process
    writeRecord(d, rec);
    const result = await sweepOrphans(d, { logger: silentLogger, graceMs: 200 });
    expect(result.runs.sort()).toEqual(['restartrun', 'strangerrun']);
    expect(result.pids).toEqual([]);
    expect([live, stranger, restarted].every((c) => isRunning(c.pid!))).toBe(true);
    expect(readdirSync(d)).toEqual(['run-liverun.json']);
  });

  it('skips its own run and unreadable records', async () => {
    const d = dir();
    const own = fakeWorker('ownrun');
    writeRecord(d, await record('ownrun', await deadHost(), [own]));
    writeFileSync(join(d, 'run-garbage.json'), '{not json');
    const logger = recordingLogger();
    const result = await sweepOrphans(d, { logger, ownRunId: 'ownrun' });
    expect(result.pids).toEqual([]);
    expect(isRunning(own.pid!)).toBe(true);
    expect(logger.lines.some((l) => /unreadable record/.test(l.msg))).toBe(true);
  });
});
