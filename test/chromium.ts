/**
 * Headless Chromium for tests and docs screenshots: Debian's `chromium` package (`apt-get install chromium`;
 * .ci/run installs it) driven by playwright-core, which brings no browser of its own.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { requireOptional } from './helpers.js';

/** The browser binary (SNAKEPIT_CHROMIUM overrides). */
export const CHROMIUM = process.env['SNAKEPIT_CHROMIUM'] ?? '/usr/bin/chromium';

/** Quiet, offline, sandbox-free (tests run as root in CI): nothing but the page under test goes on the network. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether Chromium is there; a printed skip without it, a failure under SNAKEPIT_REQUIRE_OPTIONAL=1. */
export function chromiumAvailable(): boolean {
  return requireOptional(
    existsSync(CHROMIUM),
    `Chromium (${CHROMIUM})`,
    '`apt-get install chromium`, or set SNAKEPIT_CHROMIUM to a Chromium binary',
  );
}

export interface Browser {
  page: Page;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a new, empty profile (removed on close) and one page. */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'snakepit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
