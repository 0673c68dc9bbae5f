/**
 * Streaming: iterate what a Python generator yields, stop early, use the callback form, a stream.send tool and
 * an AbortSignal. Run it with `npm run build && node dist/examples/streaming.js`. See docs/SESSIONS.md.
 */
import { AbortError, Snakepit } from 'snakepit';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

await Snakepit.runAsScript({ adapter: ADAPTER, size: 1, logLevel: 'warn' }, async (pit) => {
  // A generator: each yield is one chunk, delivered in order, with back-pressure (at most `window` ahead).
  let n = 0;
  for await (const chunk of pit.executeStream('count', { n: 100_000 }, { window: 256 })) {
    if ((chunk as { i: number }).i !== n++) throw new Error('out of order');
  }
  console.log(`count: ${n} chunks in order`);

  // Stop early: `break` cancels the Python generator (its finally runs) and frees the worker at once.
  for await (const chunk of pit.executeStream('count', { n: 1_000_000 })) {
    console.log('first chunk:', chunk);
    break;
  }
  console.log('worker free again:', (await pit.execute('ping')) !== undefined);

  // The callback form, and a Snakepit-style tool that pushes chunks with stream.send, then returns a total.
  await pit.executeStream('batch_process', { items: ['a', 'b', 'c'] }, (chunk) =>
    console.log('progress:', chunk),
  );

  // Abort from outside: the iteration rejects with AbortError, the generator is cancelled in Python.
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  try {
    for await (const _chunk of pit.executeStream(
      'count',
      { n: 1_000, delay: 0.01 },
      { signal: controller.signal },
    )) {
      /* slow chunks until the abort */
    }
  } catch (err) {
    console.log('aborted:', err instanceof AbortError);
  }
});
