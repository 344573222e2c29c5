/**
 * The dashboard's entry: sign-in from a login link (`/login#token=…`), the session, the
 * header (org, mode, live state, sign-out) and the hash router between the pages:
 * `#/devices`, `#/devices/<id>`, `#/policy`, `#/audit`.
 */
import { ApiError, onSignedOut, redeemLoginLink, rows, session, setCsrfToken, signOut } from './api.ts';
import { h, replace } from './dom.ts';
import { auditPage } from './pages/audit.ts';
import type { Page, PageContext } from './pages/common.ts';
import { code, emptyState, modeBadge, refreshCountdowns } from './pages/common.ts';
import { devicePage } from './pages/device.ts';
import { devicesPage } from './pages/devices.ts';
import { policyPage } from './pages/policy.ts';
import { Live } from './realtime.ts';
import type { LiveState } from './realtime.ts';
import type { Mode, OrgSettingsRow, SessionInfo } from './types.ts';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const sessionBox = document.getElementById('session') as HTMLElement;

const ROUTES: Record<string, { page: Page; title: string }> = {
  devices: { page: devicesPage, title: 'Devices' },
  policy: { page: policyPage, title: 'Posture policy & mode' },
  audit: { page: auditPage, title: 'Audit log' },
};

function focusMain(event: Event): void {
  event.preventDefault();
  main.focus();
}

document.querySelector('.skip-link')?.addEventListener('click', focusMain);

function signedOutScreen(message?: string): void {
  nav.hidden = true;
  sessionBox.hidden = true;
  document.title = 'Sign in — ztna';
  replace(
    main,
    h(
      'div',
      { class: 'signin' },
      h('h1', { tabindex: '-1' }, 'Sign in to the ztna dashboard'),
      message ? h('p', { class: 'error', role: 'alert' }, message.charAt(0).toUpperCase() + message.slice(1)) : null,
      h('p', null, 'On the server, run'),
      h('pre', null, code('ztna-server login-link --data DIR --url ' + location.origin)),
      h('p', null, 'and open the link it prints within a few minutes. Each link works once.'),
    ),
  );
  main.querySelector('h1')?.focus();
}

async function signInFromLink(): Promise<void> {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  // The token leaves the address bar and the history at once, used or not.
  history.replaceState(null, '', '/login');
  nav.hidden = true;
  sessionBox.hidden = true;
  if (!token) {
    signedOutScreen('This sign-in link is incomplete: copy the whole URL that `ztna-server login-link` printed.');
    return;
  }
  replace(main, h('p', { class: 'muted', role: 'status' }, 'Signing you in…'));
  try {
    await redeemLoginLink(token);
    location.replace('/#/devices');
  } catch (error) {
    signedOutScreen(error instanceof ApiError ? error.message : 'The server cannot be reached.');
  }
}

function renderSessionBox(info: SessionInfo, live: Live, modeSlot: HTMLElement): void {
  const liveBadge = h('span', { class: 'live', role: 'status', id: 'live-state' });
  live.onState((state: LiveState) => {
    liveBadge.dataset.state = state;
    liveBadge.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  });
  const signOutButton = h('button', { type: 'button', class: 'button subtle', id: 'sign-out' }, 'Sign out');
  signOutButton.addEventListener('click', () => {
    void signOut()
      .catch(() => undefined)
      .then(() => {
        live.stop();
        signedOutScreen('You are signed out.');
      });
  });
  replace(sessionBox, modeSlot, liveBadge, h('span', { class: 'org', title: `organisation ${info.org_id}` }, 'Org: ', h('strong', null, info.org_name ?? info.org_id)), signOutButton);
  sessionBox.hidden = false;
}

async function start(): Promise<void> {
  let info: SessionInfo;
  try {
    info = await session();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signedOutScreen();
    else replace(main, emptyState('The dashboard cannot reach the server', error instanceof Error ? error.message : String(error)));
    return;
  }
  setCsrfToken(info.csrf_token);
  let stopped = false;
  const signedOut = (message: string) => {
    if (stopped) return;
    stopped = true;
    live.stop();
    signedOutScreen(message);
  };
  // Before reconnecting the socket: is the session still there? (It closes when the session ends.)
  const live = new Live(async () => {
    try {
      await session();
      return true;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) return true;
      signedOut(error.message);
      return false;
    }
  });
  onSignedOut(signedOut);

  const modeSlot = h('span', { class: 'mode-slot' });
  const setMode = (mode: Mode) => replace(modeSlot, modeBadge(mode));
  renderSessionBox(info, live, modeSlot);
  nav.hidden = false;
  void rows<OrgSettingsRow>('org_settings').then(([settings]) => settings && setMode(settings.posture_enforcement), () => undefined);
  live.subscribe((event) => {
    if (event.table !== 'audit_log' || event.data.event !== 'org.settings_updated') return;
    const change = (event.data.details as { changes?: { posture_enforcement?: { to?: Mode } } } | undefined)?.changes?.posture_enforcement;
    if (change?.to) setMode(change.to);
  });
  live.start();
  // Grace and exemption countdowns run down on every page (and in dialogs) without a reload.
  window.setInterval(() => refreshCountdowns(document), 1000);

  const context: PageContext = { live, session: info, modeChanged: setMode };
  let cleanup: (() => void) | null = null;
  let firstRoute = true;
  const route = () => {
    if (stopped) return;
    const hash = location.hash;
    if (!hash.startsWith('#/') || hash === '#/') {
      if (hash === '' || hash === '#/') location.replace('#/devices');
      return;
    }
    const [name = '', ...params] = hash.slice(2).split('/').map((part) => decodeURIComponent(part));
    const target = name === 'devices' && params.length > 0 ? { page: devicePage, title: 'Device' } : ROUTES[name];
    cleanup?.();
    cleanup = null;
    for (const link of nav.querySelectorAll<HTMLAnchorElement>('a[data-route]')) {
      if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (!target) {
      document.title = 'Not found — ztna';
      replace(main, emptyState('There is no such page', h('a', { href: '#/devices' }, 'Go to the devices')));
      return;
    }
    document.title = `${target.title} — ztna`;
    cleanup = target.page(main, params, context);
    window.scrollTo(0, 0);
    // Keyboard and screen-reader users land on the new page's heading.
    if (!firstRoute) main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
    firstRoute = false;
  };
  window.addEventListener('hashchange', route);
  route();
}

if (location.pathname === '/login') {
  void signInFromLink();
  // A new link opened in this same tab changes only the fragment: no page load follows.
  window.addEventListener('hashchange', () => void signInFromLink());
} else {
  void start();
}
