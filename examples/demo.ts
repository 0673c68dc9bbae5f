/**
 * The snakepit demo: start a pool of Python workers, call Python, stream a result, see a Python error arrive as
 * a typed error, and print the pool's stats. Run it with `npm run demo`.
 */
import { PythonError, Snakepit } from 'snakepit';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';

function heading(text: string): void {
  console.log(`\n\u2500\u2500 ${text} ${'\u2500'.repeat(Math.max(0, 60 - text.length))}`);
}

await Snakepit.runAsScript({ adapter: ADAPTER, size: 2, logLevel: 'warn' }, async (pit) => {
  const info = (await pit.execute('info')) as Record<string, unknown>;
  heading('a pool of Python workers');
  for (const w of pit.workers()) console.log(`  ${w.id}: pid ${w.pid}, Python ${w.python}, codec ${w.codec}`);
  console.log(`  numpy available: ${String(info['numpy'])}`);
  if (!info['msgpack'])
    console.log('  (msgpack is not installed, so the JSON codec is used; `npx snakepit setup` adds it)');

  heading('calling Python');
  console.log('  add(2, 3)         =', await pit.execute('add', { a: 2, b: 3 }));
  const echoed = (await pit.execute('echo', { greeting: 'hello', bytes: Buffer.from('snake') })) as Record<
    string,
    unknown
  >;
  console.log('  echo(...)         =', echoed);
  const stats = (await pit.execute('stats', { values: [1.5, 2.5, 3.5, 10] })) as Record<string, unknown>;
  console.log(
    `  stats([1.5, ...]) = mean ${String(stats['mean'])}, std ${String(stats['std'])} (computed with ${String(stats['engine'])})`,
  );
  const sleepStart = performance.now();
  await Promise.all(Array.from({ length: 4 }, () => pit.execute('sleep', { seconds: 0.2 })));
  const sleptMs = Math.round(performance.now() - sleepStart);
  console.log(`  4 × sleep(0.2) on 2 workers took ${sleptMs} ms (two at a time, in parallel)`);

  heading('streaming a result');
  const t0 = performance.now();
  let received = 0;
  for await (const chunk of pit.executeStream('count', { n: 5, delay: 0.1 })) {
    received++;
    console.log(`  chunk ${JSON.stringify(chunk)} at ${Math.round(performance.now() - t0)} ms`);
  }
  console.log(`  ${received} chunks, each as soon as Python yielded it`);

  heading('a Python error, translated');
  try {
    await pit.execute('error_demo', {
      error_type: 'ZeroDivisionError',
      message: 'division by zero in the model',
    });
  } catch (err) {
    if (!(err instanceof PythonError)) throw err;
    console.log(`  ${err.name} (code ${err.code})`);
    console.log(`  pythonType: ${err.pythonType}`);
    console.log(`  message:    ${err.pythonMessage}`);
    console.log('  traceback (last lines):');
    for (const line of err.traceback.trim().split('\n').slice(-3)) console.log(`    ${line}`);
  }

  heading('stats');
  const s = pit.stats('default');
  console.log(
    `  workers ${s.workers}, requests ${s.requests}, errors ${s.errors}, timeouts ${s.timeouts}, queued ${s.queued}`,
  );
});
