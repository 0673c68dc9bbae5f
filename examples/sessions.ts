/**
 * Sessions and object references: keep Python state in a worker, call it again, hold Python objects by
 * reference. Run it with `npm run build && node dist/examples/sessions.js`. See docs/SESSIONS.md.
 */
import { type PyRef, SessionLostError, Snakepit } from 'snakepit';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

await Snakepit.runAsScript({ adapter: ADAPTER, size: 2, logLevel: 'warn' }, async (pit) => {
  // 1. Session state: the first call naming "user-1" creates the session and binds it to a worker; every later
  //    call of the session runs there (strict affinity), so what Python kept is there.
  const pid = await pit.executeInSession<number>('user-1', 'remember', { key: 'name', value: 'Ada' });
  for (let i = 0; i < 3; i++) {
    const name = await pit.executeInSession('user-1', 'recall', { key: 'name' });
    console.log(`recall in user-1 → ${String(name)} (worker pid ${pid})`);
  }
  console.log('recall in user-2 →', await pit.executeInSession('user-2', 'recall', { key: 'name' })); // null

  // 2. Object references: the accumulator cannot travel by value, so it stays in the worker and the host gets
  //    a PyRef. Its methods and attributes are reached through the pit; passing it back resolves it in Python.
  const acc = await pit.executeInSession<PyRef>('user-1', 'accumulator', { start: 10 });
  console.log(`got ${String(acc)}: type ${acc.type}, repr ${acc.repr}`);
  await pit.callMethod(acc, 'add', [5]);
  await pit.callMethod(acc, 'add', [], { kwargs: { x: 15 } });
  console.log('total =', await pit.getAttr(acc, 'total'), ', mean =', await pit.callMethod(acc, 'mean'));
  acc.release(); // or let it be garbage-collected, or end the session
  console.log('released:', acc.released);

  // 3. A reference is bound to its session: using it elsewhere is refused before anything is sent.
  const other = await pit.executeInSession<PyRef>('user-1', 'accumulator', {});
  const refused = await pit.executeInSession('user-2', 'echo', { acc: other }).catch((e: Error) => e);
  console.log('using it in user-2 →', (refused as Error).message);

  // 4. The store: inspect and end sessions. Ending one drops its Python state and references in the worker.
  console.log('sessions:', pit.sessions.list(), pit.sessions.get('user-1'));
  pit.sessions.delete('user-1');
  console.log(
    'after delete, recall in user-1 →',
    await pit.executeInSession('user-1', 'recall', { key: 'name' }),
  );

  // 5. Strict affinity and a dead worker: the state is gone, and the next call says so.
  const victim = await pit.executeInSession<number>('user-3', 'remember', { key: 'k', value: 1 });
  process.kill(victim, 'SIGKILL');
  while (pit.workers().some((w) => w.pid === victim)) await new Promise((r) => setTimeout(r, 20));
  const lost = await pit.executeInSession('user-3', 'recall', { key: 'k' }).catch((e: unknown) => e);
  console.log('after its worker died →', lost instanceof SessionLostError ? lost.message : lost);
  pit.sessions.delete('user-3');
  // (The pool replaces the dead worker; let it finish starting before the script closes the pool.)
  while (pit.workers().filter((w) => w.state === 'ready').length < 2)
    await new Promise((r) => setTimeout(r, 20));
});
