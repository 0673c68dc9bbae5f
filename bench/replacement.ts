/**
 * The replacement bench (snakepit only): a pool of 2 workers whose adapter imports pandas; a worker is killed with
 * SIGKILL in the middle of a call, and the time from the kill to its replacement's `worker:ready` is measured,
 * with the pool's template (its replacement is forked) and without (it starts cold, importing pandas again).
 * The killed worker had a call in flight, so the restart policy replaces it at once (no back-off).
 */
import { Snakepit } from '../src/index.js';
import type { DriverOptions } from './systems/types.js';

const TRIES = 5;

export async function replacementTimes(
  options: DriverOptions & { quick: boolean; template?: boolean },
): Promise<{ replaceMs: number[] } | { unavailable: string }> {
  const pit = await Snakepit.start({
    adapter: 'bench_pandas:PandasAdapter',
    size: 2,
    pythonPath: [options.pythonDir],
    python: { executable: options.python },
    template: options.template ?? true,
    logger: false,
  }).catch((err: Error) => err);
  if (pit instanceof Error) return { unavailable: pit.message.split('\n')[0]! };
  const replaceMs: number[] = [];
  try {
    for (let i = 0; i < (options.quick ? 1 : TRIES); i++) {
      const pid = await pit.execute<number>('pid');
      const busy = pit.execute('sleep', { ms: 60_000 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      const victim = pit.workers().find((w) => w.pid !== pid && w.load > 0) ?? pit.workers()[0]!;
      let killedAt = 0;
      const ready = new Promise<number>((resolve) => {
        const onReady = (): void => {
          pit.off('worker:ready', onReady);
          resolve(performance.now() - killedAt);
        };
        pit.on('worker:ready', onReady);
      });
      killedAt = performance.now();
      process.kill(victim.pid!, 'SIGKILL');
      replaceMs.push(await ready);
      await busy;
      await new Promise((r) => setTimeout(r, 200)); // the machine quiet again before the next try
    }
  } finally {
    await pit.close();
  }
  return { replaceMs };
}
