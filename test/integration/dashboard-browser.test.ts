// The dashboard page in headless Chromium, during a real workload: worker rows update, the queue moves, and an
// injected Python error appears with its traceback — shown as text even when it holds markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { type Browser, chromiumAvailable, openBrowser } from '../chromium.js';
import { start } from '../helpers.js';

const run = chromiumAvailable();
const TOKEN = 'browser-test-token-0123456789';

describe.runIf(run)('the dashboard page in Chromium', () => {
  let pit: Snakepit;
  let browser: Browser;
  let url: string;
  const problems: string[] = [];

  beforeAll(async () => {
    pit = await start({ size: 2, name: 'web' });
    const dash = await pit.dashboard({ port: 0, intervalMs: 200, token: TOKEN });
    url = dash.url;
    browser = await openBrowser();
    browser.page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    browser.page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await pit?.close();
  });

  it('shows the workers, then their rows update and the queue moves under load', async () => {
    const { page } = browser;
    await page.goto(url);
    // The token moved into a cookie: the address bar no longer shows it, and the live stream still works.
    expect(page.url()).toBe(url.replace(/\?token=.*$/, ''));
    await page.locator('#status.live').waitFor();
    const rows = page.locator('section.pool[data-pool="web"] tr[data-worker]');
    await expect.poll(() => rows.count()).toBe(2);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-worker')));
    expect(ids.sort()).toEqual(
      pit
        .workers()
        .map((w) => w.id)
        .sort(),
    );
    const served = () =>
      rows.evaluateAll((trs) =>
        trs.map((tr) => Number(tr.querySelector('[data-field="served"]')!.textContent)),
      );
    expect(await served()).toEqual([0, 0]);
    expect(await page.locator('[data-field="profile"]').first().textContent()).toBe('process');

    // 12 calls of 300 ms on 2 workers: some wait in the queue for most of two seconds.
    const calls = Array.from({ length: 12 }, () => pit.execute('sleep', { seconds: 0.3 }));
    const queued = page.locator('section.pool[data-pool="web"] [data-kpi="queued"] .value');
    await expect.poll(async () => Number(await queued.textContent()), { timeout: 10_000 }).toBeGreaterThan(0);
    const busyLoads = await rows.evaluateAll((trs) =>
      trs.map((tr) => Number(tr.querySelector('[data-field="load"]')!.textContent)),
    );
    expect(busyLoads.some((l) => l > 0)).toBe(true);
    await Promise.all(calls);
    await expect.poll(async () => (await served()).reduce((a, b) => a + b, 0), { timeout: 10_000 }).toBe(12);
    expect(await queued.textContent()).toBe('0');
    expect((await served()).every((n) => n > 0)).toBe(true);
    // The throughput sparkline and the latency histogram drew something.
    expect(await page.locator('[data-pool="web"] svg polyline').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-pool="web"] [data-chart="histogram"] rect').count()).toBeGreaterThan(0);
  });

  it('an injected Python error appears with its traceback, as text', async () => {
    const { page } = browser;
    const hostile = '<img src=x onerror="window.__pwned = 1">injected failure';
    const err = await pit.execute('error_demo', { error_type: 'KeyError', message: hostile }).catch((e) => e);
    expect((err as Error).name).toBe('PythonKeyError');
    const item = page.locator('#errors li.error').first();
    await item.waitFor({ timeout: 10_000 });
    expect(await item.locator('[data-field="error-name"]').textContent()).toBe('PythonKeyError');
    expect(await item.locator('[data-field="message"]').textContent()).toContain(hostile);
    await item.locator('summary').click();
    const traceback = item.locator('pre.traceback');
    await traceback.waitFor({ state: 'visible' });
    const text = (await traceback.textContent())!;
    expect(text).toMatch(/^Traceback \(most recent call last\):/);
    expect(text).toMatch(/in error_demo/);
    expect(text).toContain(`KeyError: '${hostile}'`);
    // Shown, never parsed: no element came from the message, no script ran.
    expect(await page.locator('#errors img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    // The error counter of the pool moved too.
    const errors = page.locator('[data-pool="web"] [data-kpi="errors"] .value');
    await expect.poll(() => errors.textContent(), { timeout: 10_000 }).toBe('1');
    expect(problems).toEqual([]);
  });
});
