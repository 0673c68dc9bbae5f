// pit.dashboard() against real workers: what /api/snapshot and /api/events carry (workers, queue, sessions,
// errors with Python tracebacks, worker lines through restarts and recycles), who may read it, hostile worker
// output, shutdown, and that a pool which never starts a dashboard loads none of its code.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, PoolClosedError, PythonValueError, type Snakepit } from '../../src/index.js';
import type { DashboardSnapshot, DashboardUpdate } from '../../src/dashboard/dashboard-types.js';
import { Access } from '../../src/dashboard/access.js';
import type { DashboardState } from '../../src/dashboard/dashboard-state.js';
import { createDashboardServer, MAX_EVENT_CLIENTS } from '../../src/dashboard/server.js';
import { EventReader, getSnapshot, httpGet } from '../dashboard-helpers.js';
import { start } from '../helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHAOS = 'snakepit_fixtures.chaos:ChaosAdapter';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function startWithDashboard(
  config: Parameters<typeof start>[0],
  options: Parameters<Snakepit['dashboard']>[0] = {},
): Promise<{ pit: Snakepit; port: number; url: string }> {
  const pit = await start(config);
  open.push(pit);
  const dash = await pit.dashboard({ port: 0, intervalMs: 100, ...options });
  return { pit, port: dash.port, url: dash.url };
}

function reader(port: number, headers?: Record<string, string>): EventReader {
  const r = new EventReader(port, headers);
  open.push(r);
  return r;
}

describe('pit.dashboard()', () => {
  it('serves the pools, their workers, sessions, and a Python error with its traceback', async () => {
    const { pit, port, url } = await startWithDashboard({ size: 2, name: 'models' });
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    await Promise.all(Array.from({ length: 10 }, (_, i) => pit.execute('add', { a: i, b: 1 })));
    await pit.executeInSession('sess-1', 'remember', { key: 'k', value: 1 });
    const err = await pit
      .execute('error_demo', { error_type: 'ValueError', message: 'injected failure' })
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(PythonValueError);

    const snap = await getSnapshot(port);
    expect(snap.version).toBe(1);
    expect(snap.host).toMatchObject({ pid: process.pid, runId: pit.runId });
    const [pool] = snap.pools;
    expect(pool).toMatchObject({ name: 'models', state: 'ready' });
    expect(pool!.stats).toMatchObject({ workers: 2, requests: 12, errors: 1 });
    expect(pool!.workers.map((w) => w.id).sort()).toEqual(
      pit
        .workers()
        .map((w) => w.id)
        .sort(),
    );
    for (const w of pool!.workers) {
      expect(w).toMatchObject({ state: 'ready', profile: 'process', restarts: 0, recycles: 0, load: 0 });
      expect(w.pid).toBeGreaterThan(0);
      expect(w.rssMb).toBeGreaterThan(1);
      expect(w.uptimeMs).toBeGreaterThanOrEqual(0);
    }
    expect(pool!.workers.reduce((n, w) => n + w.served, 0)).toBe(12);
    expect(snap.sessions.stats.active).toBe(1);
    expect(snap.sessions.newest[0]).toMatchObject({ id: 'sess-1', calls: 1 });
    expect(snap.sessions.newest[0]!.workers['models']).toMatch(/^models-\d+$/);
    const [e] = snap.errors;
    expect(e).toMatchObject({
      pool: 'models',
      tool: 'error_demo',
      errorName: 'PythonValueError',
      pythonType: 'ValueError',
      kind: 'python',
      message: 'ValueError: injected failure',
    });
    expect(e!.traceback).toMatch(/Traceback \(most recent call last\)/);
    expect(e!.traceback).toMatch(/in error_demo/);
    expect(e!.traceback).toMatch(/ValueError: injected failure/);
  });

  it('streams a snapshot, then an update every interval as workers serve and the queue moves', async () => {
    const { pit, port } = await startWithDashboard({ size: 1 });
    const events = reader(port);
    const first = await events.next((e) => e.event === 'snapshot');
    const snap = JSON.parse(first.data) as DashboardSnapshot;
    expect(snap.pools[0]!.workers[0]!.served).toBe(0);
    // 6 calls of 150 ms on one worker: the queue holds some of them for a while.
    const calls = Array.from({ length: 6 }, () => pit.execute('sleep', { seconds: 0.15 }));
    const queued = await events.update((u) => u.pools[0]!.stats.queued > 0);
    expect(queued.pools[0]!.point.queued).toBeGreaterThan(0);
    expect(queued.pools[0]!.workers[0]!.load).toBe(1);
    await Promise.all(calls);
    const drained = await events.update((u) => u.pools[0]!.workers[0]!.served === 6);
    expect(drained.pools[0]!.stats.queued).toBe(0);
    // The history saw calls per second and the latency of those calls.
    const withRate = await events.update(() => true);
    const latency = withRate.pools[0]!.latency;
    expect(latency.count).toBe(6);
    expect(latency.p99).toBeGreaterThanOrEqual(150);
    const points = events.events
      .filter((e) => e.event === 'update')
      .map((e) => (JSON.parse(e.data) as DashboardUpdate).pools[0]!.point);
    expect(points.some((p) => p.calls > 0 && p.p50 !== null)).toBe(true);
    // Errors come once each, in the update after they happened.
    await pit.execute('error_demo', {}).catch(() => {});
    const withError = await events.update((u) => u.errors.length > 0);
    expect(withError.errors[0]).toMatchObject({ tool: 'error_demo', seq: 1 });
    const after = await events.update(() => true);
    expect(after.errors).toEqual([]);
  });

  it("keeps a worker's line through a recycle and a crash", async () => {
    const { pit, port } = await startWithDashboard({
      adapter: CHAOS,
      size: 1,
      restart: { initialBackoffMs: 10 },
    });
    const first = pit.workers()[0]!.id;
    await pit.recycleWorker(first);
    const second = pit.workers()[0]!.id;
    expect(second).not.toBe(first);
    const restarted = new Promise((resolve) => pit.on('worker:restarted', resolve));
    await pit.execute('segfault', {}).catch(() => {});
    await restarted;
    const snap = await getSnapshot(port);
    const [w] = snap.pools[0]!.workers;
    expect(w!.id).not.toBe(second);
    expect(w).toMatchObject({ restarts: 1, recycles: 1 });
    expect(snap.pools[0]!.stats).toMatchObject({ restarts: 1, recycles: 1 });
    expect(snap.errors[0]).toMatchObject({
      kind: 'crash',
      tool: 'segfault',
      errorName: 'WorkerCrashedError',
    });
  });

  it('hostile worker output: a huge message and traceback are cut, shown once, and the pool keeps serving', async () => {
    const { pit, port } = await startWithDashboard({ size: 1 });
    const message = `<script>alert(1)</script>\u001b[2J${'x'.repeat(2_000_000)}`;
    const err = await pit.execute('error_demo', { message }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PythonValueError);
    const r = await httpGet(port, '/api/snapshot');
    expect(r.body.length).toBeLessThan(100_000);
    const snap = JSON.parse(r.body) as DashboardSnapshot;
    expect(snap.errors[0]!.message.startsWith('ValueError: <script>alert(1)</script>\u001b[2J')).toBe(true);
    expect(snap.errors[0]!.message.length).toBeLessThan(2100);
    expect(snap.errors[0]!.traceback!.length).toBeLessThan(16_100);
    await expect(pit.execute('add', { a: 1, b: 2 })).resolves.toBe(3);
  });

  it('with call telemetry off: counts and rates, but no latency and no recent errors', async () => {
    const { pit, port } = await startWithDashboard({ size: 1, telemetry: { calls: false } });
    const events = reader(port);
    await Promise.all(Array.from({ length: 5 }, (_, i) => pit.execute('add', { a: i, b: 1 })));
    await pit.execute('error_demo', {}).catch(() => {});
    const update = await events.update((u) => u.pools[0]!.stats.requests === 6);
    expect(update.pools[0]!.latency).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, bars: [] });
    expect(update.pools[0]!.stats.errors).toBe(1);
    const snap = await getSnapshot(port);
    expect(snap.errors).toEqual([]);
    expect(snap.pools[0]!.history.some((p) => p.calls > 0)).toBe(true);
    expect(snap.pools[0]!.history.every((p) => p.p50 === null)).toBe(true);
  });

  it('is read-only, answers only to its own host name on loopback, and sends protective headers', async () => {
    const { port } = await startWithDashboard({ size: 1 });
    const page = await httpGet(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<script src="app.js"');
    const head = await httpGet(port, '/api/snapshot', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await httpGet(port, '/app.js')).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await httpGet(port, '/style.css')).status).toBe(200);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await httpGet(port, '/api/snapshot', {}, method);
      expect(r.status).toBe(405);
      expect(r.headers['allow']).toBe('GET, HEAD');
    }
    expect((await httpGet(port, '/nope')).status).toBe(404);
    expect((await httpGet(port, '/../../etc/passwd')).status).toBe(404);
    // A page on another site that rebinds its name to 127.0.0.1 sends its own name as Host.
    const rebound = await httpGet(port, '/api/snapshot', { Host: `attacker.example:${port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('"pools"');
    expect((await httpGet(port, '/api/snapshot', { Host: `localhost:${port}` })).status).toBe(200);
  });

  it('a malformed request is answered 400 and harms nothing', async () => {
    const { pit, port } = await startWithDashboard({ size: 1 });
    const raw = (target: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let reply = '';
        socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
        socket.on('data', (d) => (reply += d.toString()));
        socket.on('close', () => resolve(reply.split('\r\n')[0]!));
        socket.on('error', () => resolve(reply.split('\r\n')[0] ?? ''));
      });
    expect(await raw('http://[')).toBe('HTTP/1.1 400 Bad Request');
    for (const target of ['//x', '/%ZZ?token=%ZZ', '/api/snapshot?a=%E0%A4%A']) {
      expect(await raw(target)).toMatch(/^HTTP\/1\.1 (200|404) /);
    }
    expect((await getSnapshot(port)).pools).toHaveLength(1);
    await expect(pit.execute('add', { a: 1, b: 2 })).resolves.toBe(3);
  });

  it('with a token: every path wants it; the printed address sets a cookie and drops it from the URL', async () => {
    const token = 'tok-0123456789abcdef';
    const { port, url } = await startWithDashboard({ size: 1 }, { token });
    expect(url).toBe(`http://127.0.0.1:${port}/?token=${token}`);
    for (const path of ['/', '/app.js', '/api/snapshot', '/api/events', '/metrics']) {
      const r = await httpGet(port, path);
      expect(r.status).toBe(401);
      expect(r.body).toMatch(/needs its token/);
    }
    expect(
      (await httpGet(port, '/api/snapshot', { Authorization: 'Bearer wrong-token-123456' })).status,
    ).toBe(401);
    const entry = await httpGet(port, `/?token=${token}`);
    expect(entry.status).toBe(303);
    expect(entry.headers.location).toBe('./');
    const cookie = entry.headers['set-cookie']![0]!.split(';')[0]!;
    expect(cookie).toBe(`snakepit_dashboard_${port}=${token}`);
    expect((await httpGet(port, '/', { Cookie: cookie })).status).toBe(200);
    expect((await getSnapshot(port, { Cookie: cookie })).pools).toHaveLength(1);
    expect((await getSnapshot(port, { Authorization: `Bearer ${token}` })).pools).toHaveLength(1);
  });

  it('serves the Prometheus metrics at /metrics', async () => {
    const { pit, port } = await startWithDashboard({ size: 1, name: 'm' });
    await pit.execute('add', { a: 1, b: 1 });
    const r = await httpGet(port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toMatch(/^snakepit_requests_total\{pool="m"\} 1$/m);
  });

  it(`refuses more than ${MAX_EVENT_CLIENTS} viewers at once, and takes one again when another leaves`, async () => {
    const { port } = await startWithDashboard({ size: 1 });
    const viewers = Array.from({ length: MAX_EVENT_CLIENTS }, () => reader(port));
    await Promise.all(viewers.map((v) => v.next((e) => e.event === 'snapshot')));
    const refused = await httpGet(port, '/api/events');
    expect(refused.status).toBe(503);
    viewers[0]!.close();
    const again = reader(port);
    await again.next((e) => e.event === 'snapshot');
  });

  it('closing the pit closes its dashboards and their streams; no new dashboard after', async () => {
    const pit = await start({ size: 1 });
    const dash = await pit.dashboard({ port: 0, intervalMs: 100 });
    const other = await pit.dashboard({ port: 0, intervalMs: 500 }); // several at once, each on its port
    expect(other.port).not.toBe(dash.port);
    expect((await getSnapshot(other.port)).intervalMs).toBe(500);
    const events = new EventReader(dash.port);
    await events.next((e) => e.event === 'snapshot');
    await pit.close();
    await expect(events.next(() => false, 5000)).rejects.toThrow(/ended/);
    await expect(httpGet(dash.port, '/api/snapshot')).rejects.toThrow(/ECONNREFUSED/);
    await expect(httpGet(other.port, '/api/snapshot')).rejects.toThrow(/ECONNREFUSED/);
    await expect(pit.dashboard({ port: 0 })).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('a port in use is a ConfigError that says what to do; close() is idempotent', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise((resolve) => blocker.close(resolve)) });
    const port = (blocker.address() as { port: number }).port;
    const pit = await start({ size: 1 });
    open.push(pit);
    const err = await pit.dashboard({ port }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/is in use .*pass another port, or 0/);
    const dash = await pit.dashboard({ port: 0 });
    await Promise.all([dash.close(), dash.close()]);
    await expect(httpGet(dash.port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the event stream', () => {
  it('disconnects a viewer that stops reading once 4 MiB wait for it, and keeps serving the others', async () => {
    // A state that sends 1 MiB updates on demand: the server's back-pressure rule alone is under test.
    let push: (u: DashboardUpdate) => void = () => {};
    const state = {
      onUpdate: (listener: (u: DashboardUpdate) => void) => ((push = listener), () => {}),
      snapshot: () => ({ version: 1 }),
    } as unknown as DashboardState;
    const { server, closeStreams } = createDashboardServer({
      state,
      access: new Access('127.0.0.1', undefined),
      metrics: async () => '',
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => (closeStreams(), new Promise((resolve) => server.close(resolve))) });
    const port = (server.address() as { port: number }).port;
    const stalled = connect(port, '127.0.0.1');
    stalled.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    stalled.pause(); // never reads
    const live = reader(port);
    await live.next((e) => e.event === 'snapshot');
    const big = { version: 1, pad: 'x'.repeat(1024 * 1024) } as unknown as DashboardUpdate;
    const connections = (): Promise<number> =>
      new Promise((resolve) => server.getConnections((_err, n) => resolve(n)));
    expect(await connections()).toBe(2);
    for (let i = 0; i < 64 && (await connections()) === 2; i++) {
      push(big);
      await live.next((e) => e.event === 'update');
    }
    expect(await connections()).toBe(1);
    stalled.destroy();
    push({ version: 1 } as unknown as DashboardUpdate);
    await live.next((e) => e.event === 'update' && e.data === '{"version":1}');
  });
});

describe('loading', () => {
  function runWithImportLog(script: string): Promise<string[]> {
    const dist = join(REPO, 'dist', 'src', 'index.js');
    if (!existsSync(dist)) throw new Error('dist is not built: run `npm run build` (npm test does)');
    const dir = mkdtempSync(join(tmpdir(), 'snakepit-imports-'));
    const log = join(dir, 'imports.log');
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--import',
          join(REPO, 'test', 'fixtures', 'import-log', 'register.mjs'),
          '--input-type=module',
          '-e',
          `import { Snakepit } from ${JSON.stringify(dist)};\n${script}`,
        ],
        { cwd: REPO, env: { ...process.env, SNAKEPIT_IMPORT_LOG: log }, timeout: 60_000 },
        (err, _stdout, stderr) => {
          if (err) return reject(new Error(`${err.message}\n${stderr}`));
          const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
          rmSync(dir, { recursive: true, force: true });
          resolve(urls);
        },
      );
    });
  }

  const SHOWCASE_START = `const pit = await Snakepit.start({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', size: 1, logger: false });`;

  it('a pool that never starts a dashboard imports none of its modules', async () => {
    const urls = await runWithImportLog(
      `${SHOWCASE_START}
       await pit.execute('add', { a: 1, b: 2 });
       pit.on('call:exception', () => {});
       pit.stats(); pit.workers(); await pit.metrics();
       await pit.close();`,
    );
    expect(urls.some((u) => u.endsWith('/dist/src/snakepit.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/dist/src/dashboard/'))).toEqual([]);
  });

  it('pit.dashboard() loads them (so the check above can see them)', async () => {
    const urls = await runWithImportLog(
      `${SHOWCASE_START}
       const d = await pit.dashboard({ port: 0 });
       await pit.close();`,
    );
    expect(urls.some((u) => u.endsWith('/dist/src/dashboard/dashboard.js'))).toBe(true);
    expect(urls.some((u) => u.endsWith('/dist/src/dashboard/server.js'))).toBe(true);
  });
});
