// Fast start: a pool's template (a fork server) imports the adapter once and forks its workers. These tests kill,
// stop and confuse the template, and check what must not cross a fork; each case ends with no leftover process.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SnakepitEvents } from '../../src/index.js';
import { resolvePython } from '../../src/python-env/interpreter.js';
import {
  BRIDGE_PYTHONPATH,
  eventually,
  FIXTURES_PYTHONPATH,
  processesMatching,
  recordingLogger,
  requireOptional,
  start,
} from '../helpers.js';
import {
  CHAOS,
  expectGone,
  expectNoLeftovers,
  killOnFinish,
  poolBackToFull,
  runProcesses,
  startHost,
  tempDir,
} from './chaos-helpers.js';

const FORKED = 'snakepit_fixtures.forking:ForkedAdapter';
const LINUX = process.platform === 'linux';

interface Facts {
  pid: number;
  ppid: number;
  imported_in: number;
  initialized_in: number;
  worker_id: string;
}

/** The template of a run: its command line is its workers' too (they are forks of it), its parent the host. */
function templatePids(runId: string, hostPid = process.pid): number[] {
  return processesMatching('snakepit_bridge', 'template', `--run-id ${runId}`).filter((pid) => {
    try {
      return ppidOf(pid) === hostPid;
    } catch {
      return false;
    }
  });
}

function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Live children of `pid` (zombies excluded). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[1]) === pid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    });
}

/** The template's private socket directory (its `--socket-dir`); the last one asked for is kept in `.last`. */
function socketDir(template: number): string {
  const args = readFileSync(`/proc/${template}/cmdline`, 'utf8').split('\0');
  socketDir.last = args[args.indexOf('--socket-dir') + 1]!;
  return socketDir.last;
}
socketDir.last = undefined as string | undefined;

/** A process's state letter (R, S, Z, ...), or undefined once it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * A template spawned by the test itself, speaking its control protocol (fd 3, lines of JSON) directly: the test
 * decides in which order the host's ends of its channels close.
 */
function bareTemplate(runId: string): {
  pid: number;
  channel: Socket;
  stderr: Socket;
  next(type: string): Promise<Record<string, unknown>>;
} {
  const child = spawn(
    resolvePython(undefined).executable,
    ['-m', 'snakepit_bridge', 'template', '--adapter', CHAOS, '--pool', 'bare', '--run-id', runId],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      detached: true,
      env: {
        ...process.env,
        PYTHONPATH: [BRIDGE_PYTHONPATH, FIXTURES_PYTHONPATH].join(':'),
        SNAKEPIT_RUN_ID: runId,
        SNAKEPIT_HOST_PID: String(process.pid),
      },
    },
  );
  const channel = child.stdio[3] as Socket;
  const messages: Array<Record<string, unknown>> = [];
  let inbox = '';
  channel.setEncoding('utf8').on('data', (chunk: string) => {
    inbox += chunk;
    let newline: number;
    while ((newline = inbox.indexOf('\n')) >= 0) {
      messages.push(JSON.parse(inbox.slice(0, newline)) as Record<string, unknown>);
      inbox = inbox.slice(newline + 1);
    }
  });
  channel.on('error', () => {});
  const next = async (type: string): Promise<Record<string, unknown>> => {
    let found: Record<string, unknown> | undefined;
    await eventually(
      () => (found = messages.find((m) => m['type'] === type)) !== undefined,
      20_000,
      `the template's "${type}"`,
    );
    messages.splice(messages.indexOf(found!), 1);
    return found!;
  };
  return { pid: child.pid!, channel, stderr: child.stderr as Socket, next };
}

interface Draws {
  pid: number;
  random: number[];
  numpy: number[] | null;
}

describe.runIf(LINUX)('the template', () => {
  it('forks every worker: one import in the template, initialize() in each worker, its own marker', async () => {
    const pit = await start({ adapter: FORKED, size: 3 });
    try {
      const [template] = templatePids(pit.runId);
      expect(template).toBeDefined();
      const facts = await Promise.all(pit.workers().map(() => pit.execute<Facts>('facts')));
      for (const f of facts) {
        expect(f.ppid).toBe(template);
        expect(f.imported_in).toBe(template); // the module ran once, in the template
        expect(f.initialized_in).toBe(f.pid); // initialize() ran in the worker, after the fork
        expect(pit.workers().map((w) => w.id)).toContain(f.worker_id);
      }
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('template: false starts every worker cold, as a child of the host', async () => {
    const pit = await start({ adapter: FORKED, size: 2, template: false });
    try {
      expect(templatePids(pit.runId)).toEqual([]);
      for (const w of pit.workers()) expect(ppidOf(w.pid!)).toBe(process.pid);
    } finally {
      await pit.close();
    }
  });

  it("describes the adapter's tools once, in the template: a forked worker's schemas and argument checks are a cold worker's", async () => {
    const adapter = 'snakepit_fixtures.typed_tools:TypedToolsAdapter';
    const forked = await start({ adapter, size: 1 });
    const cold = await start({ adapter, size: 1, template: false });
    try {
      expect(forked.stats('default').template?.forks).toBe(1);
      expect(forked.describe()).toEqual(cold.describe());
      for (const pit of [forked, cold]) {
        expect(await pit.execute('add', { a: 1 })).toBe(3);
        await expect(pit.execute('add', { a: 'one' })).rejects.toThrow(/argument/);
        await expect(pit.execute('add', { a: 1, c: 2 })).rejects.toThrow(/unexpected argument/);
      }
    } finally {
      await Promise.all([forked.close(), cold.close()]);
    }
  });

  it("gives each worker its own random state (random's and numpy's), not a copy of its sibling's", async () => {
    const pit = await start({ adapter: FORKED, size: 2 });
    try {
      // Two calls issued together go to the two workers (each takes one call at a time).
      const draws = new Map<number, { random: number[]; numpy: number[] | null }>();
      for (const d of await Promise.all([1, 2].map(() => pit.execute<Draws>('draws')))) draws.set(d.pid, d);
      expect(draws.size).toBe(2);
      const [a, b] = [...draws.values()];
      expect(a!.random).not.toEqual(b!.random);
      if (requireOptional(a!.numpy !== null, 'numpy')) expect(a!.numpy).not.toEqual(b!.numpy);
    } finally {
      await pit.close();
    }
  });

  it('keeps a spare forked ahead: a replacement is that spare (initialize() runs in it then), and it leaves with the pool', async () => {
    const pit = await start({ adapter: FORKED, size: 2 });
    try {
      const [template] = templatePids(pit.runId);
      const spares = (): number[] =>
        childrenOf(template!).filter((pid) => !pit.workers().some((w) => w.pid === pid));
      await eventually(() => spares().length === 1, 5_000, 'a spare beside the two workers');
      const [spare] = spares();
      const victim = pit.workers()[0]!;
      process.kill(victim.pid!, 'SIGKILL');
      await eventually(() => !pit.workers().some((w) => w.id === victim.id), 5_000, 'the death noticed');
      await poolBackToFull(pit, 2);
      expect(pit.workers().map((w) => w.pid)).toContain(spare);
      let fromSpare: Facts | undefined;
      for (let i = 0; i < 20 && !fromSpare; i++) {
        const facts = await Promise.all([1, 2].map(() => pit.execute<Facts>('facts')));
        fromSpare = facts.find((f) => f.pid === spare);
      }
      expect(fromSpare).toMatchObject({ ppid: template, imported_in: template, initialized_in: spare });
      expect(fromSpare!.worker_id).not.toBe(victim.id);
      // The template forks the next spare once it is quiet again.
      await eventually(() => spares().length === 1 && spares()[0] !== spare, 5_000, 'the next spare');
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('a replacement claims the spare directly: ready while the template is stopped, before the exit status; nothing of the claim is left', async () => {
    const pit = await start({ adapter: FORKED, size: 2 });
    const [template] = templatePids(pit.runId);
    try {
      const dir = socketDir(template!);
      const spares = (): number[] =>
        childrenOf(template!).filter((pid) => !pit.workers().some((w) => w.pid === pid));
      await eventually(() => spares().length === 1, 5_000, 'a spare beside the two workers');
      const [spare] = spares();
      const exited: Array<SnakepitEvents['worker:exited']> = [];
      pit.on('worker:exited', (e) => exited.push(e));
      // Stopped, the template can neither answer a fork request nor report the death: the replacement is the
      // spare, claimed by the host alone, and it starts on the channel's end, not on the exit status.
      process.kill(template!, 'SIGSTOP');
      try {
        const victim = pit.workers()[0]!;
        process.kill(victim.pid!, 'SIGKILL');
        await eventually(
          () => pit.workers().some((w) => w.pid === spare && w.state === 'ready'),
          5_000,
          'the spare ready',
        );
        expect(
          (await Promise.all([1, 2, 3, 4].map(() => pit.execute<Facts>('facts')))).map((f) => f.pid),
        ).toContain(spare);
        // The death is still classified from its status (read from the zombie while the template cannot reap it).
        await eventually(() => exited.length === 1, 5_000, 'the exit reported');
        expect(exited[0]).toMatchObject({ worker: victim.id, crashed: true, signal: 'SIGKILL' });
      } finally {
        process.kill(template!, 'SIGCONT');
      }
      // The claimed spare's socket and claim are gone; the next spare listens beside the workers, nothing else.
      await eventually(() => spares().length === 1 && spares()[0] !== spare, 5_000, 'the next spare');
      expect(readdirSync(dir)).toEqual([expect.stringMatching(/^spare-\d+-\d+\.sock$/)]);
      expect(pit.stats('default').lastStartError).toBeUndefined();
    } finally {
      await pit.close();
    }
    expect(existsSync(socketDir.last!)).toBe(false);
    await expectNoLeftovers(pit.runId);
  });

  it('a claim of a spare that died a moment ago is a fork instead, not a failed start', async () => {
    const pit = await start({ adapter: FORKED, size: 2 });
    const [template] = templatePids(pit.runId);
    try {
      const spares = (): number[] =>
        childrenOf(template!).filter((pid) => !pit.workers().some((w) => w.pid === pid));
      await eventually(() => spares().length === 1, 5_000, 'a spare beside the two workers');
      const [spare] = spares();
      // The template stopped cannot tell the host its spare died: the host still believes in it.
      process.kill(template!, 'SIGSTOP');
      try {
        process.kill(spare!, 'SIGKILL');
        await eventually(
          () => procState(spare!) === 'Z',
          5_000,
          'the spare dead (a zombie: nobody reaps it)',
        );
        const victim = pit.workers()[0]!;
        process.kill(victim.pid!, 'SIGKILL');
        await eventually(() => !pit.workers().some((w) => w.id === victim.id), 5_000, 'the death noticed');
      } finally {
        process.kill(template!, 'SIGCONT'); // its fork request is answered now
      }
      await poolBackToFull(pit, 2);
      expect(pit.workers().map((w) => w.pid)).not.toContain(spare);
      const facts = await Promise.all([1, 2, 3, 4].map(() => pit.execute<Facts>('facts')));
      expect(facts.every((f) => f.ppid === template)).toBe(true); // forked, not cold
      // The failed claim was not a failed start: no start error, no back-off beyond the crash barrier's one count
      // (the victim died on its own within a second of its start).
      const stats = pit.stats('default');
      expect(stats.lastStartError).toBeUndefined();
      expect(stats.restartFailures).toBeLessThanOrEqual(1);
      expect(stats.degraded).toBe(false);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('a confused template: spare messages outside its directory, for a stranger or with a NUL are refused; an impostor child is survived', async () => {
    // The interpreter is a wrapper: for the template it forks a helper first (a child of the template, holding its
    // control channel), then runs the real bridge. At each SIGUSR1 from the test the helper sends the next `spare`
    // message; a worker is then killed, and its replacement must be the template's real spare. The last message
    // the host cannot tell from a real spare (a child of the template, a socket in its directory, where the helper
    // accepts and hangs up): the pool must come back to full from it all the same.
    const dir = tempDir('confused-template');
    const outside = join(dir, 'outside.sock');
    const pidFile = join(dir, 'helper.pid');
    const acks = join(dir, 'acks.log');
    const claims = join(dir, 'claims.log');
    let outsideConnections = 0;
    const server = createServer((socket) => {
      outsideConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(outside, resolve));
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    killOnFinish([stranger.pid!]);
    const wrapper = join(dir, 'python');
    writeFileSync(
      wrapper,
      `#!${resolvePython(undefined).executable}
import json, os, signal, socket, sys
argv = sys.argv[1:]
if "template" in argv and os.fork() == 0:
    template, me = os.getppid(), os.getpid()
    evil = os.path.join(argv[argv.index("--socket-dir") + 1], "evil-%d.sock" % me)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(evil)
    listener.listen(8)
    listener.setblocking(False)
    lines = [
        {"type": "spare", "pid": me, "listen": ${JSON.stringify(outside)}},
        {"type": "spare", "pid": ${stranger.pid}, "listen": evil},
        {"type": "spare", "pid": me, "listen": evil + "\\u0000x"},
        {"type": "spare", "pid": me, "listen": evil},
    ]
    with open(${JSON.stringify(pidFile)}, "w") as out:
        out.write(str(me))
    sent = 0
    while os.getppid() == template:
        if signal.sigtimedwait([signal.SIGUSR1], 0.05) and sent < len(lines):
            os.write(3, json.dumps(lines[sent]).encode() + b"\\n")
            sent += 1
            with open(${JSON.stringify(acks)}, "a") as out:
                out.write("%d\\n" % sent)
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            continue
        with open(${JSON.stringify(claims)}, "a") as out:
            out.write("%d\\n" % sent)
        connection.close()
    os._exit(0)
os.execv(sys.executable, [sys.executable] + argv)
`,
    );
    chmodSync(wrapper, 0o755);
    const lines = (file: string): string[] =>
      existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    const pit = await start({ adapter: FORKED, size: 2, python: { executable: wrapper } });
    try {
      const [template] = templatePids(pit.runId);
      await eventually(() => lines(pidFile).length === 1, 5_000, 'the helper listening');
      const helper = Number(lines(pidFile)[0]);
      const spares = (): number[] =>
        childrenOf(template!).filter((pid) => pid !== helper && !pit.workers().some((w) => w.pid === pid));
      for (let message = 1; message <= 4; message++) {
        await eventually(() => spares().length === 1, 5_000, 'a spare beside the two workers');
        const [spare] = spares();
        await new Promise((resolve) => setTimeout(resolve, 300)); // its own `spare` message is in
        process.kill(helper, 'SIGUSR1');
        await eventually(() => lines(acks).length === message, 5_000, `the helper's message ${message}`);
        // This process is the host: its loop reads the line before this timer fires.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const victim = pit.workers()[0]!;
        process.kill(victim.pid!, 'SIGKILL');
        await eventually(() => !pit.workers().some((w) => w.id === victim.id), 5_000, 'the death noticed');
        await poolBackToFull(pit, 2, 15_000);
        if (message < 4) {
          expect(pit.workers().map((w) => w.pid)).toContain(spare); // the refused message left the real spare
          expect(lines(claims)).toEqual([]);
        }
      }
      const facts = await Promise.all([1, 2, 3, 4].map(() => pit.execute<Facts>('facts')));
      expect(facts.every((f) => f.ppid === template)).toBe(true); // forked workers, none of them the helper
      expect(outsideConnections).toBe(0); // never a socket outside the template's directory
      expect(stranger.exitCode).toBeNull(); // never a signal to a process that is not the template's child
      expect(stranger.signalCode).toBeNull();
      await eventually(() => !pit.stats('default').degraded, 5_000, 'the pool not degraded');
    } finally {
      await pit.close();
      server.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('is killed: the workers it forked keep serving, replacements start cold, then it is started again', async () => {
    const logger = recordingLogger();
    const pit = await start({ adapter: FORKED, size: 2, logger });
    try {
      const [template] = templatePids(pit.runId);
      process.kill(template!, 'SIGKILL');
      await eventually(
        () => logger.lines.some((l) => l.msg.includes('its template exited')),
        5_000,
        'the warning',
      );
      // The forked workers were not taken along.
      expect((await Promise.all([1, 2, 3, 4].map(() => pit.execute<Facts>('facts')))).length).toBe(4);
      // A worker dies: its replacement starts cold (the template is not back yet), and the pool is whole again.
      const victim = pit.workers()[0]!;
      const survivor = pit.workers()[1]!;
      process.kill(victim.pid!, 'SIGKILL');
      await eventually(() => !pit.workers().some((w) => w.id === victim.id), 5_000, 'the death noticed');
      await poolBackToFull(pit, 2);
      const replacement = pit.workers().find((w) => w.id !== survivor.id)!;
      expect(ppidOf(replacement.pid!)).toBe(process.pid);
      // After its pause (1 s) the template is back, and the next replacement is forked from it.
      await eventually(() => pit.stats('default').template?.state === 'ready', 15_000, 'a new template');
      const [second] = templatePids(pit.runId);
      expect(second).not.toBe(template);
      const next = pit.workers()[0]!;
      process.kill(next.pid!, 'SIGKILL');
      await eventually(() => !pit.workers().some((w) => w.id === next.id), 5_000, 'the death noticed');
      await poolBackToFull(pit, 2);
      await eventually(
        () => pit.workers().some((w) => w.pid !== undefined && ppidOf(w.pid) === second),
        5_000,
        'a worker forked from the new template',
      );
      expect(await pit.execute<Facts>('facts')).toBeDefined();
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('hangs (stopped): a fork it does not answer times out, and the worker starts cold instead', async () => {
    const logger = recordingLogger();
    const pit = await start({ adapter: FORKED, size: 2, logger });
    const [template] = templatePids(pit.runId);
    killOnFinish([template!]);
    try {
      process.kill(template!, 'SIGSTOP');
      const victim = pit.workers()[0]!;
      process.kill(victim.pid!, 'SIGKILL');
      await eventually(() => !pit.workers().some((w) => w.id === victim.id), 5_000, 'the death noticed');
      await eventually(
        () => pit.workers().filter((w) => w.state === 'ready').length === 2,
        15_000,
        'the pool back to full',
      );
      expect(logger.lines.map((l) => l.msg).join('\n')).toContain('did not answer a fork request');
      const cold = pit.workers().find((w) => w.pid !== undefined && ppidOf(w.pid) === process.pid);
      expect(cold).toBeDefined();
      expect(await pit.execute<Facts>('facts')).toBeDefined();
      await expectGone([template!], 3_000); // the hung template was killed
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('is not used for an adapter that declares __fork_safe__ = False: its workers start cold', async () => {
    const logger = recordingLogger();
    const pit = await start({ adapter: 'snakepit_fixtures.forking:ForkUnsafeAdapter', size: 2, logger });
    try {
      for (const w of pit.workers()) expect(ppidOf(w.pid!)).toBe(process.pid);
      expect(logger.lines.some((l) => l.msg.includes('__fork_safe__ = False'))).toBe(true);
      await eventually(() => templatePids(pit.runId).length === 0, 3_000, 'the template to leave');
    } finally {
      await pit.close();
    }
  });

  it('detects a thread started at import (it would vanish in a fork): the workers start cold, and the log says why', async () => {
    const logger = recordingLogger();
    const pit = await start({
      adapter: 'snakepit_fixtures.forking_thread:ThreadAtImportAdapter',
      size: 2,
      logger,
    });
    try {
      for (const w of pit.workers()) expect(ppidOf(w.pid!)).toBe(process.pid);
      const line = logger.lines.find((l) => l.msg.includes('thread'));
      expect(line?.msg).toContain('import-time-poller');
      expect(line?.msg).toContain('initialize()');
    } finally {
      await pit.close();
    }
  });

  it('forks an adapter that imports pandas and pyarrow (their allocator thread is fork-safe by design)', async (ctx) => {
    const python = resolvePython(undefined).executable;
    const has = spawnSync(python, ['-c', 'import pandas, pyarrow'], { stdio: 'ignore' }).status === 0;
    if (!requireOptional(has, 'pandas and pyarrow')) return ctx.skip();
    const pit = await start({ adapter: 'snakepit_fixtures.forking_pandas:PandasAtImportAdapter', size: 2 });
    try {
      const [template] = templatePids(pit.runId);
      expect(pit.stats('default').template?.state).toBe('ready');
      const facts = await Promise.all(pit.workers().map(() => pit.execute<Facts>('facts')));
      for (const f of facts) expect(f.ppid).toBe(template);
    } finally {
      await pit.close();
    }
    await expectNoLeftovers(pit.runId);
  });

  it('takes its workers along when its channel ends after its stderr is gone (a dead host closes both at once)', async () => {
    // A host's death reaches the template two ways: the parent-death signal, and end of file on its channel (a
    // dead process's files close before the kernel signals its children). When the end of file came first, the
    // template said why on stderr — gone with the host — before stopping its workers, and died of that.
    const runId = `bare-${process.pid}-${Date.now()}`;
    const template = bareTemplate(runId);
    killOnFinish([template.pid]);
    expect(await template.next('ready')).toMatchObject({ unsafe: null });
    const listen = join(tempDir('fork'), 'w.sock');
    template.channel.write(`${JSON.stringify({ type: 'fork', id: 1, worker: 'w', listen, ledger: null })}\n`);
    const forked = await template.next('forked');
    const worker = forked['pid'] as number;
    killOnFinish([worker]); // it waits for the host's connections (30 s), and cannot see the host: only the template stops it
    expect(ppidOf(worker)).toBe(template.pid);
    template.stderr.destroy();
    await new Promise((r) => setTimeout(r, 100)); // the close reaches the kernel
    template.channel.destroy();
    await expectGone([template.pid, worker], 3_000);
    expect(runProcesses(runId)).toEqual([]);
  });

  it('is killed, then the host is killed while the workers it forked hold the GIL in C code: a warden stops them', async () => {
    const host = startHost('orphans', { registryDir: tempDir('reg') });
    const ready = await host.waitFor('ready');
    const runId = ready['runId'] as string;
    const [template] = templatePids(runId, host.child.pid);
    const pids = ready['pids'] as number[];
    killOnFinish([template!, ...pids, ...(ready['children'] as number[])]);
    for (const pid of pids) expect(ppidOf(pid)).toBe(template);
    process.kill(template!, 'SIGKILL');
    // The host notices the template's end and starts a warden for its workers (their own threads cannot run).
    await eventually(
      () => processesMatching('snakepit_bridge/warden.py', `--run-id ${runId}`).length === 1,
      10_000,
      'the warden',
    );
    const wardens = processesMatching('snakepit_bridge/warden.py', `--run-id ${runId}`);
    killOnFinish(wardens);
    host.child.kill('SIGKILL');
    await host.exited;
    await expectGone([...pids, ...wardens], 3_000);
  });

  it('leaves nothing when the host is killed: neither the template nor the workers it forked (busy in C code)', async () => {
    const host = startHost('orphans', { registryDir: tempDir('reg') });
    const ready = await host.waitFor('ready');
    const runId = ready['runId'] as string;
    const templates = templatePids(runId, host.child.pid);
    const pids = ready['pids'] as number[];
    const children = ready['children'] as number[];
    killOnFinish([...templates, ...pids, ...children]);
    expect(templates).toHaveLength(1);
    for (const pid of pids) expect(ppidOf(pid)).toBe(templates[0]);
    host.child.kill('SIGKILL');
    await host.exited;
    await expectGone([...templates, ...pids], 3_000);
  });
});
