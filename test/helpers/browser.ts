// A real browser for the dashboard tests: Debian's chromium (`make browser` installs it) driven by playwright-core,
// which never downloads a browser of its own.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

// This machine's network reaches only package registries: without the background-networking flags Chromium keeps
// trying Google's hosts (refused, many at a time). --no-sandbox because the tests run as root.
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

export type BrowserPage = Readonly<{ page: Page; context: BrowserContext; browser: Browser; close(): Promise<void> }>;

/** Launches chromium with a fresh context (empty storage) and one page, 1280x800 unless told otherwise. */
export async function openBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run \`make browser\` (installs Debian's chromium)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    return {
      page,
      context,
      browser,
      async close() {
        await context.close().catch(() => undefined);
        await browser.close();
      },
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
