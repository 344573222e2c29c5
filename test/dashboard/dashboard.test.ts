/**
 * The admin dashboard in a real browser (issue 8): a real `bin/ztna-server` process on a
 * temp data dir, devices enrolled and reporting through the agent API, and Debian's
 * Chromium driven by playwright-core. Sign in with a `login-link`, watch a device turn
 * quarantined live, read why on its detail page, preview the impact of enforce, flip
 * the mode, release a device after a confirmation, filter the audit log — and the
 * refusals: a used link, a cookie-authenticated write without the CSRF header or from
 * another origin, a cross-origin WebSocket.
 *
 * Screenshots of every page, at 1280×800 and 400 px wide, land in test-output/dashboard/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningProcess } from '../../src/platform/command-runner.ts';
import { serverRunner } from '../support/cli.ts';
import { apiClient, CHROMIUM, CHROMIUM_ARGS, requireChromium, screenshots, SHOTS, WIDE } from './support.ts';

const work = mkdtempSync(join(tmpdir(), 'ztna-dashboard-'));
const dataDir = join(work, 'data');
const runner = serverRunner();

let server: RunningProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let url: string;
let boot: { org_id: string; admin_token: string };
let firstLink: string;
const machines: Record<string, { machine_id: string; node_key: string }> = {};
const pageErrors: string[] = [];

const COMPLIANT = { os_version: 'Debian GNU/Linux 12 (bookworm)', disk_encrypted: true, firewall_enabled: true, antivirus_enabled: true, patch_age_days: 3 };
const evidence = (diskOn: boolean) => ({
  disk_encrypted: {
    method: 'sysfs',
    detail: diskOn ? 'encrypted: / on vda sits on dm-crypt (LUKS2)' : 'not encrypted: / on vda (disk) has no dm-crypt layer',
    observations: [{ file: '/proc/self/mountinfo', seen: '/ on /dev/vda1 type ext4' }],
    duration_ms: 3.2,
    privileged: false,
  },
  firewall_enabled: { method: 'nft', detail: 'an input chain with policy drop', observations: [{ command: ['/usr/sbin/nft', '-j', 'list', 'ruleset'], exit_code: 0, seen: '{"nftables": []}' }], duration_ms: 9, privileged: true },
});

const { admin, agent } = apiClient(() => url, () => boot.admin_token);

async function loginLink(org?: string): Promise<string> {
  const result = await runner.run('ztna-server', ['login-link', '--data', dataDir, '--url', url, ...(org ? ['--org', org, '--create-org'] : [])]);
  expect(result.exitCode, result.stderr).toBe(0);
  const link = result.stdout.trim();
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login#token=ztna_login_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  return link;
}

const row = (hostname: string) => page.locator('table.devices tbody tr', { has: page.locator('.device-link', { hasText: hostname }) });

describe.runIf(process.platform === 'linux')('the admin dashboard in Chromium', () => {
  beforeAll(async () => {
    requireChromium();
    server = await runner.start('ztna-server', ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--log-level', 'warn']);
    [, url = ''] = await server.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    const booted = await runner.run('ztna-server', ['bootstrap', '--data', dataDir, '--json']);
    expect(booted.exitCode, booted.stderr).toBe(0);
    boot = JSON.parse(booted.stdout);

    // Tags come from the auth key (SPEC 7.1): one key granting every tag used below.
    const authKey = (await admin('POST', '/api/db/auth_keys', { description: 'dashboard test', tags: ['engineering', 'finance', 'servers'] })).data[0].key as string;
    // An access rule naming a device-chosen hostname: the policy page flags it.
    await admin('POST', '/api/db/posture_policies', { name: 'baseline', require_disk_encryption: true, require_firewall: true, max_patch_age_days: 30 });
    // …and needs its source to satisfy the baseline (posture per resource, SPEC 7.3).
    await admin('POST', '/api/db/acl_rules', { name: 'ssh-to-nuc', priority: 10, action: 'allow', src: 'tag:engineering', dst: 'host:delta-nuc', ports: '22', src_posture: 'baseline' });
    await admin('POST', '/api/org-management', { action: 'update_org_settings', posture_enforcement: 'monitor' });
    const enroll = async (hostname: string, os: string, tags: string[] = []) => {
      machines[hostname] = await agent('/api/register', { auth_key: authKey, hostname, os, os_version: os === 'linux' ? 'Debian GNU/Linux 12' : undefined, arch: 'amd64', agent_version: '0.1.0', tags });
    };
    await enroll('alpha-mbp', 'darwin', ['engineering']);
    await enroll('bravo-win', 'windows', ['finance']);
    await enroll('charlie-linux', 'linux', ['engineering', 'servers']);
    await enroll('delta-nuc', 'linux');
    const report = (hostname: string, signals: Record<string, unknown>) => agent('/api/posture-report', { node_key: machines[hostname]?.node_key, ...signals });
    await report('alpha-mbp', { ...COMPLIANT, os_version: 'macOS 15.1', platform: 'darwin', arch: 'arm64' });
    await report('bravo-win', { ...COMPLIANT, os_version: 'Windows 11 Pro 23H2', firewall_enabled: false, patch_age_days: 45, platform: 'win32' });
    await report('charlie-linux', { ...COMPLIANT, platform: 'linux', arch: 'amd64', agent_version: '0.1.0', evidence: evidence(true) });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ viewport: WIDE });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Script errors and Content-Security-Policy violations show up here; there must be none.
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGTERM', 5_000);
  });

  it('signs in with a one-time login link and lists every device', { timeout: 60_000 }, async () => {
    firstLink = await loginLink();
    await page.goto(firstLink);
    await page.waitForURL(/\/#\/devices$/);
    expect(page.url()).not.toContain('token');
    await row('delta-nuc').waitFor();
    expect(await page.locator('table.devices tbody tr').count()).toBe(4);

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'ztna_session', httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: scripts never see it

    expect(await row('bravo-win').locator('[data-compliance]').getAttribute('data-compliance')).toBe('non_compliant');
    expect(await row('bravo-win').locator('.chip').allTextContents()).toEqual(['firewall', 'patch age 45 > 30 d']);
    expect(await row('delta-nuc').locator('[data-compliance]').textContent()).toBe('No report');
    // SPEC 7.1: no report is no verdict, shown as pending.
    expect(await row('delta-nuc').getAttribute('data-posture-state')).toBe('pending');
    expect(await row('delta-nuc').locator('.cell-status .sub').textContent()).toBe('pending: no verdict');
    expect(await row('alpha-mbp').getAttribute('data-posture-state')).toBe('compliant');
    expect(await row('alpha-mbp').locator('[data-status]').textContent()).toBe('Online');
    expect(await page.locator('.summary').textContent()).toBe('4 devices · 4 online · 0 offline · 0 quarantined · 1 non-compliant');
    await page.locator('#live-state[data-state="live"]').waitFor();
    await screenshots(page, 'devices');

    // Search and filter (keyboard: type into the search box).
    await page.locator('#device-search').fill('finance');
    await expect.poll(() => page.locator('table.devices tbody tr:not([hidden])').count()).toBe(1);
    expect(await page.locator('table.devices tbody tr:not([hidden]) .device-link').textContent()).toBe('bravo-win');
    await page.locator('#device-search').fill('');
    await page.locator('#device-compliance').selectOption('no_report');
    await expect.poll(() => page.locator('table.devices tbody tr:not([hidden])').count()).toBe(1);
    await page.locator('#device-search').fill('no-such-host');
    await page.locator('.empty', { hasText: 'No devices match these filters' }).waitFor();
    await page.locator('.empty button', { hasText: 'Clear filters' }).click();
    await expect.poll(() => page.locator('table.devices tbody tr:not([hidden])').count()).toBe(4);
  });

  it('previews the impact of enforce, then flips the mode after a confirmation', { timeout: 60_000 }, async () => {
    await page.locator('nav a', { hasText: 'Posture policy' }).click();
    await page.locator('#preview-enforce').click();
    const preview = page.locator('.preview-area .impact');
    await preview.waitFor();
    expect(await preview.getAttribute('data-would-quarantine')).toBe('1');
    expect(await preview.locator('[data-section="would_quarantine"] .impact-list a').allTextContents()).toEqual(['bravo-win']);
    expect(await preview.textContent()).toContain('1 device without a report yet');
    // The whole truth (issue 15): delta-nuc, without a verdict, is named too — and nobody else.
    expect(await preview.locator('[data-section="no_verdict"] .impact-list a').allTextContents()).toEqual(['delta-nuc']);
    expect(await preview.locator('.impact-list a').allTextContents()).toEqual(['bravo-win', 'delta-nuc']);
    // Nothing changed: still monitor, bravo still online.
    expect((await admin('GET', '/api/db/org_settings')).data[0].posture_enforcement).toBe('monitor');
    expect((await admin('GET', `/api/db/machines?id=eq.${machines['bravo-win']?.machine_id}`)).data[0].status).toBe('online');
    await screenshots(page, 'policy');
    // Access rules, read-only: a host: selector is marked as device-chosen (SPEC 7.1).
    const rules = page.locator('.rules-table');
    expect(await rules.locator('tbody tr').count()).toBe(2);
    expect(await rules.locator('.selector-host').allTextContents()).toEqual(['host:delta-nuc ⚠']);
    expect(await rules.locator('tbody tr td.rule-posture').allTextContents()).toEqual(['satisfies baseline', '—']);
    expect(await page.locator('#rules-title + p').textContent()).toContain('A hostname is the device’s own choice: prefer id: and tag:');

    await page.locator('[data-mode="enforce"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('Switch to enforce?');
    expect(await dialog.locator('[data-section="would_quarantine"] .impact-list a').allTextContents()).toEqual(['bravo-win']);
    expect(await dialog.locator('[data-section="no_verdict"] .impact-list a').allTextContents()).toEqual(['delta-nuc']);
    await dialog.screenshot({ path: join(SHOTS, 'enforce-confirmation.png') });
    await dialog.locator('[data-confirm]').click();
    await page.locator('[data-current-mode="enforce"]').waitFor();
    await page.locator('.topbar [data-mode="enforce"]').waitFor();
    expect((await admin('GET', '/api/db/org_settings')).data[0].posture_enforcement).toBe('enforce');
    expect((await admin('GET', `/api/db/machines?id=eq.${machines['bravo-win']?.machine_id}`)).data[0]).toMatchObject({ status: 'quarantined', quarantine_reason: 'posture' });
    const audit = (await admin('GET', '/api/db/audit_log?event=eq.org.settings_updated&order=created_at.desc&limit=1')).data[0];
    expect(audit.actor).toMatch(/^admin:dashboard-[0-9a-f]{8}$/);

    // In enforce mode, a stricter policy shows its impact before it is saved; cancelling saves nothing.
    const policy = page.locator('form.policy-card').first();
    await policy.locator('input[name="max_patch_age_days"]').fill('2');
    await policy.locator('button[type="submit"]').click();
    const stricter = page.locator('dialog[open]');
    await stricter.waitFor();
    expect(await stricter.locator('[data-section="would_quarantine"] .impact-list > li > a').allTextContents()).toEqual(['alpha-mbp', 'charlie-linux']);
    expect(await stricter.locator('.impact-headline').textContent()).toBe('2 online devices would be quarantined now:');
    // bravo-win, quarantined and still failing, is not left out; nor is delta-nuc, without a verdict.
    expect(await stricter.locator('[data-section="still_quarantined"] .impact-list > li > a').allTextContents()).toEqual(['bravo-win']);
    expect(await stricter.locator('[data-section="no_verdict"] .impact-list > li > a').allTextContents()).toEqual(['delta-nuc']);
    await stricter.locator('button', { hasText: 'Cancel' }).click();
    await stricter.waitFor({ state: 'detached' });
    expect((await admin('GET', '/api/db/posture_policies')).data[0].max_patch_age_days).toBe(30);
    expect((await admin('GET', '/api/db/machines?status=eq.quarantined&select=hostname')).data).toEqual([{ hostname: 'bravo-win' }]);
    // SPEC 7.2's requirements are in the same form, one control per catalogue requirement.
    for (const name of ['require_screen_lock', 'require_secure_boot', 'min_agent_version', 'min_os_versions.darwin', 'min_os_versions.windows', 'min_os_versions.linux']) {
      expect(await policy.locator(`input[name="${name}"]`).count(), name).toBe(1);
    }
    const darwinMinimum = policy.locator('input[name="min_os_versions.darwin"]');
    await darwinMinimum.fill('14.4-beta');
    expect(await darwinMinimum.evaluate((input: { validity: { patternMismatch: boolean } }) => input.validity.patternMismatch)).toBe(true);
    await darwinMinimum.fill('14.4');
    expect(await darwinMinimum.evaluate((input: { validity: { valid: boolean } }) => input.validity.valid)).toBe(true);
  });

  it('turns a device quarantined live when a failing report arrives, without a reload or a layout shift', { timeout: 60_000 }, async () => {
    await page.locator('nav a', { hasText: 'Devices' }).click();
    await row('charlie-linux').waitFor();
    await page.locator('#live-state[data-state="live"]').waitFor();
    expect(await row('charlie-linux').locator('[data-status]').getAttribute('data-status')).toBe('online');
    await page.evaluate('window.__sameDocument = true');
    const positions = async () => page.evaluate("[...document.querySelectorAll('table.devices tbody tr')].map((r) => Math.round(r.getBoundingClientRect().top))");
    const before = await positions();

    await agent('/api/posture-report', { node_key: machines['charlie-linux']?.node_key, ...COMPLIANT, disk_encrypted: false, platform: 'linux', arch: 'amd64', agent_version: '0.1.0', evidence: evidence(false) });
    await row('charlie-linux').locator('[data-status="quarantined"]').waitFor();
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(await row('charlie-linux').locator('.chip').allTextContents()).toEqual(['disk encryption']);
    expect(await row('charlie-linux').getAttribute('class')).toContain('is-quarantined');
    expect(await positions()).toEqual(before);
    expect(await page.locator('.summary').textContent()).toBe('4 devices · 2 online · 0 offline · 2 quarantined · 2 non-compliant');
    await screenshots(page, 'devices-quarantined');
  });

  it('shows on the detail page why the device is blocked, signal by signal with the evidence', { timeout: 60_000 }, async () => {
    // From the keyboard: focus the device's link, Enter; focus lands on the page's heading.
    await row('charlie-linux').locator('.device-link').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/devices\/[0-9a-f-]+$/);
    await page.locator('h1', { hasText: 'charlie-linux' }).waitFor();
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.tagName')).toBe('H1');
    const verdict = page.locator('.verdict');
    await verdict.locator('h2', { hasText: 'Why is this device blocked?' }).waitFor();
    expect(await verdict.locator('.violations li').allTextContents()).toEqual([expect.stringMatching(/^disk encryption — Disk encryption is off; the policy requires it\. To fix: encrypt the root file system with LUKS/)]);
    const disk = page.locator('tr[data-signal="disk_encrypted"]');
    expect(await disk.getAttribute('data-result')).toBe('fail');
    expect(await disk.locator('td').nth(0).textContent()).toBe('disabled');
    expect(await disk.textContent()).toContain('not encrypted: / on vda (disk) has no dm-crypt layer');
    expect(await page.locator('tr[data-signal="firewall_enabled"]').getAttribute('data-result')).toBe('pass');
    expect(await page.locator('tr[data-signal="antivirus_enabled"]').getAttribute('data-result')).toBe('not_required');
    await page.locator('.timeline [data-event="machine.auto_quarantine"]').waitFor();
    expect(await page.locator('.timeline li').first().textContent()).toContain('Quarantined (posture)');
    // The evidence's observations open from the keyboard.
    await disk.locator('details summary').focus();
    await page.keyboard.press('Enter');
    await disk.locator('details[open] code', { hasText: '/proc/self/mountinfo' }).waitFor();
    await screenshots(page, 'device-detail');
  });

  it('releases the device only after the admin confirms', { timeout: 60_000 }, async () => {
    const id = machines['charlie-linux']?.machine_id;
    await page.locator('[data-action="release"]').click();
    let dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Its latest report still fails (disk encryption)');
    await page.keyboard.press('Escape'); // cancels
    await dialog.waitFor({ state: 'detached' });
    expect((await admin('GET', `/api/db/machines?id=eq.${id}`)).data[0].status).toBe('quarantined');

    await page.locator('[data-action="release"]').click();
    dialog = page.locator('dialog[open]');
    await dialog.locator('[data-confirm]').click();
    await page.locator('.page-header [data-status="online"]').waitFor();
    await page.locator('.feedback .ok', { hasText: 'charlie-linux is released.' }).waitFor();
    expect((await admin('GET', `/api/db/machines?id=eq.${id}`)).data[0]).toMatchObject({ status: 'online', quarantine_reason: null });
    await page.locator('.timeline [data-event="machine.manual_unquarantine"]').waitFor();
    const audit = (await admin('GET', `/api/db/audit_log?machine_id=eq.${id}&event=eq.machine.manual_unquarantine`)).data;
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toMatch(/^admin:dashboard-/);
  });

  it('lists the audit log, filters it, and adds new events live', { timeout: 60_000 }, async () => {
    await page.locator('nav a', { hasText: 'Audit log' }).click();
    await page.locator('table.audit tbody tr').first().waitFor();
    expect(await page.locator('table.audit tbody tr[data-event="machine.registered"]').count()).toBe(4);
    await screenshots(page, 'audit');
    await page.locator('#audit-event').selectOption('machine.auto_quarantine');
    await expect.poll(() => page.locator('table.audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')))).toEqual(['machine.auto_quarantine', 'machine.auto_quarantine']);
    await page.locator('#audit-search').fill('bravo');
    await expect.poll(() => page.locator('table.audit tbody tr:not([hidden])').count()).toBe(1);
    await page.locator('#audit-search').fill('');

    // alpha fails its next report: quarantined in enforce mode, and the event appears at the top.
    await agent('/api/posture-report', { node_key: machines['alpha-mbp']?.node_key, ...COMPLIANT, firewall_enabled: null });
    await expect.poll(() => page.locator('table.audit tbody tr').count(), { timeout: 10_000 }).toBe(3);
    expect(await page.locator('table.audit tbody tr').first().textContent()).toContain('alpha-mbp');
    expect(await page.locator('table.audit tbody tr').first().textContent()).toContain('firewall');
  });

  it('refuses a login link that was already used, and shows a clear empty state to a new org', { timeout: 60_000 }, async () => {
    const other = await browser!.newContext({ viewport: WIDE });
    try {
      const second = await other.newPage();
      await second.goto(firstLink);
      await second.locator('.signin .error', { hasText: 'has already been used' }).waitFor();
      expect(await other.cookies()).toEqual([]);
      await second.setViewportSize(WIDE);
      await second.screenshot({ path: join(SHOTS, 'signin-refused-wide.png') });
      const token = firstLink.split('#token=')[1];
      const again = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      expect(again.status).toBe(401);

      // The command refuses what it cannot turn into a working link.
      for (const [args, message] of [[['--url', 'http://127.0.0.1:8787/ztna'], /--url: expected http\(s\):\/\/HOST:PORT with no path/], [['--ttl', '5'], /--ttl: whole seconds between 60/], [['--url', 'ftp://x'], /--url/]] as const) {
        const refused = await runner.run('ztna-server', ['login-link', '--data', dataDir, ...args]);
        expect(refused.exitCode).toBe(2);
        expect(refused.stderr).toMatch(message);
        expect(refused.stdout).toBe('');
      }

      // A typo in --org is refused, naming the orgs there are (SPEC 7.4)…
      const typo = await runner.run('ztna-server', ['login-link', '--data', dataDir, '--url', url, '--org', 'empty-org']);
      expect(typo.exitCode).toBe(2);
      expect(typo.stderr).toMatch(/no organisation "empty-org" here \(there are: "[^"]+"\); check --org and --data\/--db, or pass --create-org/);
      expect(typo.stdout).toBe('');
      // …and --create-org makes a new org: nothing enrolled yet.
      await second.goto(await loginLink('empty-org'));
      await second.locator('.empty', { hasText: 'No devices enrolled yet' }).waitFor();
      await screenshots(second, 'devices-empty');
    } finally {
      await other.close();
    }
  });

  it('refuses cookie-authenticated writes without the CSRF header or from another origin; Bearer tokens keep working', { timeout: 60_000 }, async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'ztna_session');
    expect(cookie).toBeDefined();
    const jar = `ztna_session=${cookie!.value}`;
    const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
      fetch(`${url}${path}`, { method, headers: { cookie: jar, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const change = { action: 'update_org_settings', heartbeat_interval_s: 20 };

    const session = (await (await call('GET', '/api/session', {})).json()) as any;
    expect(session.data).toMatchObject({ org_id: boot.org_id, org_name: 'default', csrf_token: expect.any(String) });
    const csrf = session.data.csrf_token as string;

    const noHeader = await call('POST', '/api/org-management', {}, change);
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as any).error.message).toMatch(/x-ztna-csrf/);
    expect((await call('POST', '/api/org-management', { 'x-ztna-csrf': 'forged' }, change)).status).toBe(403);
    expect((await call('POST', '/api/org-management', { 'x-ztna-csrf': csrf, origin: 'http://evil.example' }, change)).status).toBe(403);
    expect((await admin('GET', '/api/db/org_settings')).data[0].heartbeat_interval_s).toBe(30);
    expect((await call('POST', '/api/org-management', { 'x-ztna-csrf': csrf, origin: url }, change)).status).toBe(200);
    expect((await admin('GET', '/api/db/org_settings')).data[0].heartbeat_interval_s).toBe(20);
    expect((await call('GET', '/api/db/machines', {})).status).toBe(200);
    // The cookie never names another org: a foreign org_id is refused as for Bearer tokens.
    expect((await call('POST', '/api/org-management', { 'x-ztna-csrf': csrf }, { ...change, org_id: '00000000-0000-0000-0000-000000000000' })).status).toBe(403);

    const wsUrl = `${url.replace('http', 'ws')}/api/realtime`;
    const upgrade = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(wsUrl, { headers: { cookie: jar, origin } });
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.once('error', reject);
      });
    expect(await upgrade('http://evil.example')).toBe(403);
    expect(await upgrade(url)).toBe(101);
  });

  it('signs out: the session cookie stops working', { timeout: 60_000 }, async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'ztna_session');
    await page.locator('#sign-out').click();
    await page.locator('.signin', { hasText: 'You are signed out.' }).waitFor();
    const after = await fetch(`${url}/api/session`, { headers: { cookie: `ztna_session=${cookie!.value}` } });
    expect(after.status).toBe(401);
    expect(await context.cookies()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
