/**
 * The dashboard's side of the policy lifecycle (issue 15, SPEC 7.3) in a real browser: a
 * real `bin/ztna-server` on a temp data dir, devices enrolled and reporting through the
 * agent API, Debian's Chromium driven by playwright-core (in en-GB, Europe/Paris time, so
 * "local time" is not UTC). Targeting and grace in the policy editor, with the messages for
 * what it refuses; a roll-out preview that tells the whole truth; grace countdowns that
 * run down without a reload and follow realtime updates; exemptions granted with a reason
 * and an end, and ended after a confirmation.
 *
 * Screenshots land in test-output/dashboard/ beside dashboard.test.ts's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../../src/platform/command-runner.ts';
import { serverRunner } from '../support/cli.ts';
import { apiClient, CHROMIUM, CHROMIUM_ARGS, requireChromium, screenshots, SHOTS, WIDE } from './support.ts';

const LOCALE = 'en-GB';
const ZONE = 'Europe/Paris';

const work = mkdtempSync(join(tmpdir(), 'ztna-dashboard-lifecycle-'));
const dataDir = join(work, 'data');
const runner = serverRunner();

let server: RunningProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let url: string;
let boot: { org_id: string; admin_token: string };
const machines: Record<string, { machine_id: string; node_key: string }> = {};
const pageErrors: string[] = [];

const COMPLIANT = { os_version: 'Debian GNU/Linux 12 (bookworm)', disk_encrypted: true, firewall_enabled: true, antivirus_enabled: true, patch_age_days: 3 };

const { admin, agent } = apiClient(() => url, () => boot.admin_token);

const idOf = (hostname: string) => machines[hostname]?.machine_id as string;
const machine = async (hostname: string) => (await admin('GET', `/api/db/machines?id=eq.${idOf(hostname)}`)).data[0];
const exemptionsOf = async (hostname: string) => (await admin('GET', `/api/db/posture_exemptions?machine_id=eq.${idOf(hostname)}`)).data as any[];
const row = (hostname: string) => page.locator('table.devices tbody tr', { has: page.locator('.device-link', { hasText: hostname }) });
const linksIn = (root: ReturnType<Page['locator']>, section: string) => root.locator(`[data-section="${section}"] .impact-list > li > a`).allTextContents();
/** "07:47": how the browser's zone shows an instant (what the page's local times must say). */
const clock = (iso: string) => new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit', timeZone: ZONE }).format(Date.parse(iso));

async function openDevice(hostname: string): Promise<void> {
  await page.goto(`${url}/#/devices/${idOf(hostname)}`);
  await page.locator('h1', { hasText: hostname }).waitFor();
  await page.locator('#live-state[data-state="live"]').waitFor();
}

describe.runIf(process.platform === 'linux')('the policy lifecycle in the dashboard (Chromium)', () => {
  beforeAll(async () => {
    requireChromium();
    server = await runner.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--log-level', 'warn']);
    [, url = ''] = await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    const booted = await runner.run('ztna-server', ['bootstrap', '--data', dataDir, '--json']);
    expect(booted.exitCode, booted.stderr).toBe(0);
    boot = JSON.parse(booted.stdout);

    const authKey = (await admin('POST', '/api/db/auth_keys', { description: 'lifecycle test', tags: ['finance', 'kiosk'] })).data[0].key as string;
    await admin('POST', '/api/db/posture_policies', { name: 'baseline', require_firewall: true });
    await admin('POST', '/api/org-management', { action: 'update_org_settings', posture_enforcement: 'monitor' });
    const enroll = async (hostname: string, os: string, tags: string[] = []) => {
      machines[hostname] = await agent('/api/register', { auth_key: authKey, hostname, os, arch: 'amd64', agent_version: '0.1.0', tags });
    };
    const report = (hostname: string, signals: Record<string, unknown>) => agent('/api/posture-report', { node_key: machines[hostname]?.node_key, ...signals });
    await enroll('echo-mac', 'darwin', ['finance']);
    await enroll('golf-linux', 'linux', ['kiosk']);
    await enroll('hotel-nuc', 'linux');
    await enroll('india-mac', 'darwin', ['finance']);
    await enroll('juliet-win', 'windows');
    await enroll('kilo-linux', 'linux');
    await report('echo-mac', { ...COMPLIANT, os_version: 'macOS 15.1', platform: 'darwin', firewall_enabled: false });
    await report('golf-linux', { ...COMPLIANT, platform: 'linux' });
    // hotel-nuc never reports: no verdict.
    await report('india-mac', { ...COMPLIANT, os_version: 'macOS 15.1', platform: 'darwin', disk_encrypted: false });
    await report('juliet-win', { ...COMPLIANT, os_version: 'Windows 11 Pro', platform: 'windows', firewall_enabled: false });
    await report('kilo-linux', { ...COMPLIANT, platform: 'linux', firewall_enabled: false });
    // An admin holds juliet-win by hand; kilo-linux is exempt from the firewall for five days.
    await admin('PATCH', '/api/db/machines', { _filters: { id: idOf('juliet-win') }, status: 'quarantined' });
    await admin('POST', '/api/db/posture_exemptions', { machine_id: idOf('kilo-linux'), codes: ['firewall_'], reason: 'vendor appliance, no host firewall', expires_at: new Date(Date.now() + 5 * 86_400_000).toISOString() });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ viewport: WIDE, locale: LOCALE, timezoneId: ZONE });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    const link = await runner.run('ztna-server', ['login-link', '--data', dataDir, '--url', url]);
    expect(link.exitCode, link.stderr).toBe(0);
    await page.goto(link.stdout.trim());
    await page.waitForURL(/\/#\/devices$/);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM', 5_000);
  });

  it('edits a policy’s targeting and grace period, saying clearly what it refuses', { timeout: 60_000 }, async () => {
    await page.locator('nav a', { hasText: 'Posture policy' }).click();
    const baseline = page.locator('form.policy-card').first();
    await baseline.waitFor();
    // Both "all" by default: every platform checked, no tags; no grace.
    for (const platform of ['darwin', 'windows', 'linux']) expect(await baseline.locator(`input[name="platforms.${platform}"]`).isChecked(), platform).toBe(true);
    expect(await baseline.locator('input[name="tags"]').inputValue()).toBe('');
    expect(await baseline.locator('input[name="grace_amount"]').inputValue()).toBe('0');
    expect(await baseline.locator('.policy-scope').textContent()).toBe('Applies to every device · grace: none');
    expect(await baseline.locator('.hint').first().textContent()).toContain('Tags in use: finance, kiosk.');

    await page.locator('#add-policy').click();
    const form = page.locator('form.policy-card[data-policy="new"]');
    await form.locator('input[name="name"]').fill('laptops-disk');
    await form.locator('input[name="require_disk_encryption"]').check();
    await form.locator('input[name="platforms.linux"]').uncheck();
    await form.locator('input[name="tags"]').fill('Finance');
    await form.locator('input[name="grace_amount"]').fill('2');
    await form.locator('select[name="grace_unit"]').selectOption('days');
    const error = form.locator('.form-error');
    const refused = async (message: string | RegExp, field: string) => {
      await form.locator('button[type="submit"]').click();
      await expect.poll(() => error.textContent()).toMatch(message);
      expect(await form.locator(`[name="${field}"]`).getAttribute('aria-invalid')).toBe('true');
      expect(await page.evaluate('document.activeElement && document.activeElement.name')).toBe(field);
    };
    await refused(/^Tags: “Finance” is not a tag \(did you mean “finance”\?\)\. Tags are lower-case letters, digits and dashes/, 'tags');
    await form.locator('input[name="tags"]').fill('finance');
    await form.locator('input[name="platforms.darwin"]').uncheck();
    await form.locator('input[name="platforms.windows"]').uncheck();
    await refused('Applies to: check at least one platform (all of them: every device).', 'platforms.darwin');
    await form.locator('input[name="platforms.darwin"]').check();
    await form.locator('input[name="platforms.windows"]').check();
    await form.locator('input[name="grace_amount"]').fill('400');
    await refused('Grace period: at most 365 days.', 'grace_amount');
    await form.locator('input[name="grace_amount"]').fill('-1');
    await refused('Grace period: a number of days, 0 or more.', 'grace_amount');
    expect((await admin('GET', '/api/db/posture_policies')).data).toHaveLength(1); // nothing refused was sent

    await form.locator('input[name="grace_amount"]').fill('2');
    await form.locator('button[type="submit"]').click();
    await page.locator('.feedback .ok', { hasText: 'Created “laptops-disk”.' }).waitFor();
    const created = (await admin('GET', '/api/db/posture_policies?name=eq.laptops-disk')).data[0];
    expect(created).toMatchObject({ require_disk_encryption: true, platforms: ['darwin', 'windows'], tags: ['finance'], grace_period_s: 2 * 86_400 });

    // Edit: the grace period in hours, stored as seconds.
    const card = page.locator(`form.policy-card[data-policy="${created.id}"]`);
    expect(await card.locator('.policy-scope').textContent()).toBe('Applies to macOS and Windows devices tagged finance · grace: 2 days');
    expect(await card.locator('input[name="grace_amount"]').inputValue()).toBe('2');
    expect(await card.locator('select[name="grace_unit"]').inputValue()).toBe('days');
    await card.locator('input[name="grace_amount"]').fill('12');
    await card.locator('select[name="grace_unit"]').selectOption('hours');
    await card.locator('button[type="submit"]').click();
    await page.locator('.feedback .ok', { hasText: 'Saved “laptops-disk”.' }).waitFor();
    expect((await admin('GET', `/api/db/posture_policies?id=eq.${created.id}`)).data[0]).toMatchObject({ platforms: ['darwin', 'windows'], tags: ['finance'], grace_period_s: 12 * 3600 });
    await expect.poll(() => card.locator('.policy-scope').textContent()).toBe('Applies to macOS and Windows devices tagged finance · grace: 12 h');
    expect(await card.locator('input[name="grace_amount"]').inputValue()).toBe('12');
    expect(await card.locator('select[name="grace_unit"]').inputValue()).toBe('hours');
    expect(await page.locator('.effective').textContent()).toBe('In effect for every device: a firewall — plus 1 targeted policy for some devices (below).');
    await screenshots(page, 'policy-targeting');
  });

  it('previews the whole truth of enforce: blocked now, blocked when grace ends, already quarantined, exempt, no verdict', { timeout: 60_000 }, async () => {
    await page.locator('#preview-enforce').click();
    const preview = page.locator('.preview-area .impact');
    await preview.waitFor();
    expect(await preview.locator('.impact-headline').textContent()).toBe('1 online device would be quarantined now:');
    expect(await linksIn(preview, 'would_quarantine')).toEqual(['echo-mac']);
    // A grace run starts with enforcement: india-mac keeps its access for 12 h, and the preview says until when.
    expect(await linksIn(preview, 'would_block_after_grace')).toEqual(['india-mac']);
    const when = preview.locator('[data-section="would_block_after_grace"] [data-countdown]');
    expect(await when.textContent()).toMatch(/^blocks at \w{3},? \d{1,2} \w{3} \d{4},? \d{2}:\d{2} CET \(in (11 h 59 min|12 h)\)$/);
    expect(await when.textContent()).toContain(clock((await when.getAttribute('datetime')) as string));
    expect(await linksIn(preview, 'still_quarantined')).toEqual(['juliet-win']);
    expect(await preview.locator('[data-section="still_quarantined"] .impact-list > li').textContent()).toContain('held by an admin');
    expect(await linksIn(preview, 'exempt_failing')).toEqual(['kilo-linux']);
    expect(await preview.locator('[data-section="exempt_failing"] .impact-list > li').textContent()).toMatch(/exempt until .+ CET \(in 4 days\)$/);
    expect(await linksIn(preview, 'no_verdict')).toEqual(['hotel-nuc']);
    expect(await preview.locator('[data-section="no_verdict"] > p').textContent()).toContain('1 device without a report yet');
    expect(await preview.textContent()).toContain('Evaluated 5 devices with a report.');
    await screenshots(page, 'policy-preview-truth');

    // The confirmation tells the same, then enforce begins.
    await page.locator('[data-mode="enforce"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await linksIn(dialog, 'would_quarantine')).toEqual(['echo-mac']);
    expect(await linksIn(dialog, 'would_block_after_grace')).toEqual(['india-mac']);
    expect(await linksIn(dialog, 'still_quarantined')).toEqual(['juliet-win']);
    expect(await linksIn(dialog, 'exempt_failing')).toEqual(['kilo-linux']);
    expect(await linksIn(dialog, 'no_verdict')).toEqual(['hotel-nuc']);
    await dialog.screenshot({ path: join(SHOTS, 'enforce-confirmation-lifecycle.png') });
    await dialog.locator('[data-confirm]').click();
    await page.locator('[data-current-mode="enforce"]').waitFor();
    expect(await machine('echo-mac')).toMatchObject({ status: 'quarantined', posture_state: 'failing' });
    expect(await machine('india-mac')).toMatchObject({ status: 'online', posture_state: 'grace', grace_until: expect.any(String) });

    // Nobody more would be quarantined now — but two devices are blocked, and the preview says so first.
    await page.locator('#preview-enforce').click();
    const again = page.locator('.preview-area .impact[data-would-quarantine="0"]');
    await again.waitFor();
    const headline = (await again.locator('.impact-headline').textContent()) ?? '';
    expect(headline).toBe('2 devices already quarantined and still failing stay blocked; no other online device would be quarantined now. 1 device would be blocked when its grace period ends.');
    expect(headline).not.toMatch(/^No /);
    expect(await again.getAttribute('data-still-quarantined')).toBe('2');
    expect(await linksIn(again, 'still_quarantined')).toEqual(['echo-mac', 'juliet-win']);
    expect(await linksIn(again, 'would_block_after_grace')).toEqual(['india-mac']);
  });

  it('counts down to the end of a grace period in the devices list and on the device page, live', { timeout: 60_000 }, async () => {
    await page.locator('nav a', { hasText: 'Devices' }).click();
    await row('india-mac').waitFor();
    await page.locator('#live-state[data-state="live"]').waitFor();
    expect(await row('india-mac').getAttribute('data-posture-state')).toBe('grace');
    expect(await row('india-mac').locator('.cell-status .sub').textContent()).toBe('blocks in 11 h');
    expect(await row('india-mac').locator('.cell-status [data-countdown]').getAttribute('datetime')).toBe((await machine('india-mac')).grace_until);
    expect(await page.locator('.summary').textContent()).toContain(' · 1 in grace');
    await page.evaluate('window.__sameDocument = true');

    // A kiosk policy with an 8 s grace: golf-linux (no screen lock) enters grace live and counts down, then is quarantined.
    await admin('POST', '/api/db/posture_policies', { name: 'kiosk-lock', require_screen_lock: true, tags: ['kiosk'], grace_period_s: 8 });
    const golf = row('golf-linux').locator('.cell-status [data-countdown]');
    await golf.waitFor();
    const first = (await golf.textContent()) ?? '';
    expect(first).toMatch(/^blocks in [1-8] s$/);
    const seconds = (text: string) => Number(/in (\d) s/.exec(text)?.[1] ?? 'NaN');
    await expect.poll(async () => seconds((await golf.textContent()) ?? ''), { timeout: 5_000 }).toBeLessThan(seconds(first));
    await row('golf-linux').locator('[data-status="quarantined"]').waitFor({ timeout: 15_000 });
    expect(await row('golf-linux').locator('.cell-status .sub').textContent()).toBe('reason: posture');
    // Its stored verdict was re-judged without a report event: the row follows all the same.
    await expect.poll(() => row('golf-linux').locator('[data-compliance]').getAttribute('data-compliance')).toBe('non_compliant');
    expect(await row('golf-linux').locator('.chip').allTextContents()).toEqual(['screen lock']);
    expect(await page.evaluate('window.__sameDocument')).toBe(true); // no reload
    expect(await machine('golf-linux')).toMatchObject({ status: 'quarantined', quarantine_reason: 'posture' });
    await screenshots(page, 'devices-grace');

    // The device page: when, in the admin's own time zone, and how long is left.
    await row('india-mac').locator('.device-link').click();
    await page.locator('h1', { hasText: 'india-mac' }).waitFor();
    const graceUntil = (await machine('india-mac')).grace_until as string;
    expect(await page.locator('.page-header [data-posture-state="grace"]').textContent()).toBe('In grace');
    const deadline = page.locator('.verdict .grace-deadline [data-countdown]');
    expect(await deadline.getAttribute('datetime')).toBe(graceUntil);
    expect(await deadline.textContent()).toMatch(/^blocks at \w{3},? \d{1,2} \w{3} \d{4},? \d{2}:\d{2} CET \(in 11 h 5\d min\)$/);
    expect(await deadline.textContent()).toContain(clock(graceUntil));
    expect(await page.locator('.verdict h2').textContent()).toBe('Failing — in its grace period');
    expect(await page.locator('.verdict li[data-code="disk_encryption_required"] [data-countdown]').textContent()).toMatch(/^blocks at .+ CET \(in 11 h 5\d min\)$/);
    await screenshots(page, 'device-grace');
  });

  it('grants an exemption with a reason and an end, then ends it after a confirmation', { timeout: 60_000 }, async () => {
    await openDevice('echo-mac');
    const panel = page.locator('#exemptions');
    await panel.locator('[data-empty="exemptions"]').waitFor();
    // Only the policies that apply to it: laptops-disk (a finance Mac) does, kiosk-lock (kiosks) does not.
    expect(await page.locator('tr[data-signal="disk_encrypted"] td').nth(1).textContent()).toBe('required');
    expect(await page.locator('tr[data-signal="screen_lock_enabled"]').getAttribute('data-result')).toBe('not_required');
    await page.locator('[data-action="exempt"]').click();
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('grant-reason');

    const form = panel.locator('form.grant-exemption');
    // Chosen codes start from what fails now.
    await form.locator('input[name="scope"][value="codes"]').check();
    expect(await form.locator('input[name="code"]:checked').evaluateAll((boxes) => boxes.map((box) => box.getAttribute('value')))).toEqual(['firewall_required']);
    expect(await form.locator('label', { has: page.locator('input[value="firewall_required"]') }).textContent()).toContain('(failing now)');
    expect(await form.locator('input[name="expires_amount"]').inputValue()).toBe('7'); // the default: a week
    const error = form.locator('.form-error');
    await form.locator('[data-action="grant-exemption"]').click();
    await expect.poll(() => error.textContent()).toBe('Reason: say why this device is exempt — it is shown here and in the audit log.');
    await form.locator('input[name="reason"]').fill('new firewall profile rolling out, IT-4711');
    await form.locator('input[name="expires_amount"]').fill('100');
    await form.locator('[data-action="grant-exemption"]').click();
    await expect.poll(() => error.textContent()).toBe('Ends in: at most 90 days.');
    await form.locator('input[name="scope"][value="all"]').check();
    await form.locator('input[name="scope"][value="codes"]').check();
    await form.locator('input[name="code"]:checked').uncheck();
    await form.locator('[data-action="grant-exemption"]').click();
    await expect.poll(() => error.textContent()).toBe('Covers: choose at least one violation, or “All violations”.');
    expect(await exemptionsOf('echo-mac')).toEqual([]); // nothing refused was sent

    await form.locator('input[value="firewall_required"]').check();
    await form.locator('input[name="expires_amount"]').fill('3');
    expect(await form.locator('#grant-end').textContent()).toMatch(/^At most 90 days\. Ends \w{3},? \d{1,2} \w{3} \d{4},? \d{2}:\d{2} CET\.$/);
    const granting = Date.now();
    await form.locator('[data-action="grant-exemption"]').click();
    await page.locator('.feedback .ok', { hasText: 'echo-mac is exempt from firewall_required until' }).waitFor();
    const [granted] = await exemptionsOf('echo-mac');
    expect(granted).toMatchObject({ codes: ['firewall_required'], reason: 'new firewall profile rolling out, IT-4711', created_by: expect.stringMatching(/^admin:dashboard-/), ended_at: null });
    expect(Math.abs(Date.parse(granted.expires_at) - (granting + 3 * 86_400_000))).toBeLessThan(60_000);
    expect(await form.locator('input[name="reason"]').inputValue()).toBe('');

    // Released at once (a posture quarantine), live; the list shows when it ends.
    await page.locator('.page-header [data-status="online"]').waitFor();
    await page.locator('.page-header [data-posture-state="exempt"]').waitFor();
    const active = panel.locator(`li[data-exemption="${granted.id}"][data-state="active"]`);
    await active.waitFor();
    expect(await active.textContent()).toContain('“new firewall profile rolling out, IT-4711”');
    expect(await active.locator('[data-countdown]').textContent()).toMatch(/^until .+ CET \(in 2 days 23 h\)$/);
    expect(await active.locator('[data-countdown]').textContent()).toContain(clock(granted.expires_at));
    await page.locator('.verdict li[data-code="firewall_required"] .finding-when.exempt').waitFor();
    await page.locator('.timeline [data-event="machine.exemption_granted"]').waitFor();
    await screenshots(page, 'device-exemptions');

    // Ending it asks first: cancelled, nothing changes.
    await active.locator('[data-action="end-exemption"]').click();
    let dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('End this exemption of echo-mac?');
    expect(await dialog.locator('.warning-text').textContent()).toContain('in enforce mode echo-mac is quarantined at once');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await exemptionsOf('echo-mac')).toHaveLength(1);

    await active.locator('[data-action="end-exemption"]').click();
    dialog = page.locator('dialog[open]');
    await dialog.locator('[data-confirm]').click();
    await page.locator('.feedback .ok', { hasText: 'The exemption of echo-mac from firewall_required has ended.' }).waitFor();
    expect(await exemptionsOf('echo-mac')).toEqual([]);
    await page.locator('.page-header [data-status="quarantined"]').waitFor();
    expect(await machine('echo-mac')).toMatchObject({ status: 'quarantined', quarantine_reason: 'posture' });
    // Still listed, as ended early and by whom (the audit log keeps its story).
    const ended = panel.locator(`li[data-exemption="${granted.id}"][data-state="ended_early"]`);
    await ended.waitFor();
    expect(await ended.textContent()).toMatch(/ended early by admin:dashboard-[0-9a-f]{8}/);
    expect(await ended.textContent()).toContain('“new firewall profile rolling out, IT-4711”');
    await panel.locator('[data-empty="exemptions"]').waitFor();
  });

  it('shows an exemption running out live, and the legacy flag as “exempt, no expiry”', { timeout: 60_000 }, async () => {
    await openDevice('echo-mac');
    const panel = page.locator('#exemptions');
    // Granted elsewhere (the API), for 3 s: the page follows it in and out without a reload.
    await page.evaluate('window.__sameDocument = true');
    const short = (await admin('POST', '/api/db/posture_exemptions', { machine_id: idOf('echo-mac'), codes: null, reason: 'three seconds', expires_at: new Date(Date.now() + 3000).toISOString() })).data[0];
    await panel.locator(`li[data-exemption="${short.id}"][data-state="active"]`).waitFor();
    await page.locator('.page-header [data-status="online"]').waitFor();
    await panel.locator(`li[data-exemption="${short.id}"][data-state="expired"]`).waitFor({ timeout: 10_000 });
    await page.locator('.page-header [data-status="quarantined"]').waitFor();
    await page.locator('.timeline [data-event="machine.exemption_expired"]').first().waitFor();
    expect(await page.evaluate('window.__sameDocument')).toBe(true);

    // The legacy flag: exempt, no expiry — ended from the same list, after a confirmation.
    await admin('PATCH', '/api/db/machines', { _filters: { id: idOf('hotel-nuc') }, posture_exempt: true });
    await openDevice('hotel-nuc');
    const legacy = panel.locator('li[data-state="legacy"]');
    await legacy.waitFor();
    expect(await legacy.locator('.exemption-end').textContent()).toBe('exempt, no expiry');
    await legacy.locator('[data-action="unexempt"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.locator('[data-confirm]').click();
    await panel.locator('[data-empty="exemptions"]').waitFor();
    expect((await machine('hotel-nuc')).posture_exempt).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
