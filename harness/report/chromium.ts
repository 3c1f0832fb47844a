/**
 * Opens a report in real Chromium (Debian's /usr/bin/chromium through playwright-core) so tests
 * can check that an HTML report renders and its controls work, offline.
 */
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';

/** Debian's Chromium; playwright-core downloads no browser of its own. */
export const chromiumPath = '/usr/bin/chromium';

/** Flags for a headless root run on a shared machine with no network. */
export const chromiumArgs = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Loads `file` (an absolute path) in a fresh headless Chromium, runs `check` on the page and
 * closes the browser, even when the check throws. Page errors are collected and returned.
 */
export async function withReportPage<T>(
  file: string,
  check: (page: Page) => Promise<T>,
): Promise<{ value: T; pageErrors: string[] }> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(pathToFileURL(file).href);
    const value = await check(page);
    return { value, pageErrors };
  } finally {
    await browser.close();
  }
}
