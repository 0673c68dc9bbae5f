/**
 * Take docs/dashboard.png: two pools under a mixed workload (a queue, Python errors, sessions, one recycle,
 * one crash and its restart), the dashboard open in headless Chromium, one error's traceback unfolded.
 *
 *   npm run docs:screenshot            (needs Debian's chromium, as the end-to-end test does)
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Snakepit } from '../src/index.js';
import { CHROMIUM, openBrowser } from '../test/chromium.js';
import { FIXTURES_PYTHONPATH, SHOWCASE } from '../test/helpers.js';

const OUT = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'dashboard.png');
const SECONDS = 40;

const pit = await Snakepit.start({
  logger: false,
  pools: [
    { name: 'models', adapter: SHOWCASE, size: 3 },
    {
      name: 'etl',
      adapter: 'snakepit_fixtures.chaos:ChaosAdapter',
      size: 2,
      pythonPath: [FIXTURES_PYTHONPATH],
    },
  ],
});
try {
  const dash = await pit.dashboard({ port: 0, intervalMs: 500, historyMs: 60_000 });
  let until = 0;
  let round = 0;
  const models = async (): Promise<void> => {
    while (Date.now() < until) {
      // Bursts that outrun three workers now and then, so the queue moves.
      const burst = round % 6 < 2 ? 12 : 3;
      await Promise.all(
        Array.from({ length: burst }, (_, i) =>
          pit.execute('sleep', { seconds: 0.02 + ((i * 7 + round) % 10) / 200 }, { pool: 'models' }),
        ),
      );
      if (round % 25 === 4) {
        await pit
          .execute('error_demo', { error_type: 'KeyError', message: `feature_${round}` }, { pool: 'models' })
          .catch(() => {});
      }
      if (round % 5 === 0)
        await pit.executeInSession(`user-${round % 4}`, 'add', { a: round, b: 1 }, { pool: 'models' });
      round++;
    }
  };
  const etl = async (): Promise<void> => {
    let i = 0;
    while (Date.now() < until) {
      await Promise.all([
        pit.execute('sleep', { seconds: 0.05 }, { pool: 'etl' }),
        pit.execute('echo', { value: i }, { pool: 'etl' }),
      ]);
      if (i === 40) await pit.recycleWorker(pit.workers('etl')[0]!.id);
      if (i === 120) await pit.execute('segfault', {}, { pool: 'etl' }).catch(() => {});
      i++;
    }
  };
  // The browser starts first (its start-up takes the CPU of a small machine), and the picture is taken while
  // the load still runs.
  const browser = await openBrowser({ width: 1280, height: 800 });
  try {
    await browser.page.goto(dash.url);
    await browser.page.locator('#status.live').waitFor();
    until = Date.now() + SECONDS * 1000;
    const load = Promise.all([models(), etl()]);
    await new Promise((resolve) => setTimeout(resolve, (SECONDS - 4) * 1000));
    await pit
      .execute(
        'error_demo',
        { error_type: 'ValueError', message: 'could not convert string to float: "n/a"' },
        { pool: 'models' },
      )
      .catch(() => {});
    await browser.page.locator('#errors li.error summary').first().click();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await browser.page.screenshot({ path: OUT, fullPage: true });
    await load;
  } finally {
    await browser.close();
  }
  console.log(`wrote ${OUT} (Chromium: ${CHROMIUM})`);
} finally {
  await pit.close();
}
