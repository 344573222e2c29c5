/**
 * What the dashboard's browser tests share: Debian's Chromium driven by playwright-core,
 * the window sizes, and whole-page screenshots (test-output/dashboard/) that also check a
 * page never needs sideways scrolling in a narrow window.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT } from '../support/cli.ts';

/** Debian's package (`apt-get install chromium`); .ci/run installs it when missing. */
export const CHROMIUM = process.env.ZTNA_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** No background traffic: the test network is closed and Chromium would flood it. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = join(ROOT, 'test-output', 'dashboard');
export const WIDE = { width: 1280, height: 800 };
export const NARROW = { width: 400, height: 800 };

/** Throws a message saying how to get Chromium when it is missing; makes the screenshot directory. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the dashboard's browser tests need it. Install it with \`apt-get install chromium\` (.ci/run does this when it is missing), or point ZTNA_TEST_CHROMIUM at a Chromium binary.`);
  }
  mkdirSync(SHOTS, { recursive: true });
}

/** Whole-page screenshots of what `target` shows now, in a 1280×800 and a 400 px wide window. */
export async function screenshots(target: Page, name: string): Promise<void> {
  // Pictures of the page at rest: after the highlight of a live update has faded.
  await target.locator('tr.flash').first().waitFor({ state: 'detached' });
  await target.setViewportSize(WIDE);
  await target.screenshot({ path: join(SHOTS, `${name}-wide.png`), fullPage: true, animations: 'disabled' });
  await target.setViewportSize(NARROW);
  // Readable on a narrow window: nothing wider than the window (no sideways scrolling).
  expect(await target.evaluate('document.documentElement.scrollWidth'), `${name} overflows a ${NARROW.width} px window`).toBeLessThanOrEqual(NARROW.width);
  await target.screenshot({ path: join(SHOTS, `${name}-narrow.png`), fullPage: true, animations: 'disabled' });
  await target.setViewportSize(WIDE);
}

/**
 * The test's own HTTP calls to the server under test: `admin` with the org's Bearer token and
 * `agent` (no credentials but the body's). Each throws on a non-2xx answer, naming it.
 * `url` and `token` are read at call time (they are known once the server runs).
 */
export function apiClient(url: () => string, token: () => string) {
  const call = async (method: string, path: string, headers: Record<string, string>, body: unknown): Promise<any> => {
    const response = await fetch(`${url()}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const parsed = (await response.json()) as any;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  return {
    admin: (method: string, path: string, body?: unknown): Promise<any> => call(method, path, { authorization: `Bearer ${token()}` }, body),
    agent: (path: string, body: unknown): Promise<any> => call('POST', path, {}, body),
  };
}
