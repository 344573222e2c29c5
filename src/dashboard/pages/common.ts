/** Pieces every page uses: status and compliance badges, times, violation chips, empty states. */
import type { Child } from '../dom.ts';
import { h } from '../dom.ts';
import type { ViolationLike } from '../format.ts';
import { absoluteTime, blocksAt, blocksIn, countdown, relativeTime, until, violationLabel } from '../format.ts';
import type { Live } from '../realtime.ts';
import type { Machine, Mode, PostureReportRow, SessionInfo } from '../types.ts';

export interface PageContext {
  readonly live: Live;
  readonly session: SessionInfo;
  /** The org's mode changed (policy page): the header badge follows. */
  modeChanged(mode: Mode): void;
}

/** A page renders into `main` and returns its clean-up (unsubscribe, timers). */
export type Page = (main: HTMLElement, params: string[], context: PageContext) => () => void;

const STATUS_TEXT: Record<string, string> = { online: 'Online', offline: 'Offline', quarantined: 'Quarantined' };

export function statusBadge(machine: Pick<Machine, 'status' | 'quarantine_reason'>): HTMLElement {
  const badge = h('span', { class: `badge status-${machine.status}`, 'data-status': machine.status }, h('span', { class: 'dot', 'aria-hidden': 'true' }), STATUS_TEXT[machine.status] ?? machine.status);
  return badge;
}

export type Compliance = 'compliant' | 'non_compliant' | 'no_report' | 'not_evaluated';

export function complianceOf(report: Pick<PostureReportRow, 'compliant' | 'mode'> | undefined): Compliance {
  if (!report) return 'no_report';
  if (report.mode === 'disabled') return 'not_evaluated';
  return report.compliant ? 'compliant' : 'non_compliant';
}

const COMPLIANCE_TEXT: Record<Compliance, string> = { compliant: 'Compliant', non_compliant: 'Non-compliant', no_report: 'No report', not_evaluated: 'Not evaluated' };

export function complianceBadge(compliance: Compliance): HTMLElement {
  return h('span', { class: `badge compliance-${compliance}`, 'data-compliance': compliance }, COMPLIANCE_TEXT[compliance]);
}

export function modeBadge(mode: Mode): HTMLElement {
  return h('span', { class: `badge mode-${mode}`, 'data-mode': mode, title: `Posture enforcement: ${mode}` }, `Mode: ${mode}`);
}

/** Relative time with the absolute one beside it (both visible; `<time>` carries ISO). */
export function timeCell(iso: string | null | undefined, now = Date.now()): HTMLElement {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, class: 'when', 'data-relative': iso }, h('span', { class: 'rel' }, relativeTime(iso, now)), h('span', { class: 'abs' }, absoluteTime(iso)));
}

/** Refreshes every relative time under `root` (their width is reserved: no layout shift). */
export function refreshTimes(root: ParentNode, now = Date.now()): void {
  for (const element of root.querySelectorAll<HTMLElement>('[data-relative]')) {
    const rel = element.querySelector('.rel');
    if (rel) rel.textContent = relativeTime(element.dataset.relative, now);
  }
}

/**
 * Countdowns (SPEC 7.3 grace and exemption ends): `blocks-in` ("blocks in 2 days", the
 * devices list), `blocks-at` ("blocks at <local time> (in 2 days)") and `until` ("until
 * <local time> (in 6 days)"). A `<time>` carrying the ISO instant; main.ts refreshes every
 * one on the page each second (refreshCountdowns), so they run down without a reload.
 */
export type CountdownKind = 'blocks-in' | 'blocks-at' | 'until';

export function countdownText(kind: CountdownKind, iso: string, now: number): string {
  switch (kind) {
    case 'blocks-in':
      return blocksIn(iso, now);
    case 'blocks-at':
      return blocksAt(iso, now);
    case 'until':
      return until(iso, now);
  }
}

export function countdownElement(iso: string, kind: CountdownKind, now = Date.now()): HTMLElement {
  // aria-live off: ticking inside a live region (the impact preview) must not be read out each second.
  const element = h('time', { datetime: iso, class: 'countdown', 'data-countdown': kind, title: absoluteTime(iso), 'aria-live': 'off' });
  setCountdown(element, kind, iso, now);
  return element;
}

function setCountdown(element: HTMLElement, kind: CountdownKind, iso: string, now: number): void {
  const text = countdownText(kind, iso, now);
  if (element.textContent !== text) element.textContent = text;
  const state = countdown(iso, now) === 'now' ? 'past' : 'running';
  if (element.dataset.state !== state) element.dataset.state = state;
}

export function refreshCountdowns(root: ParentNode, now = Date.now()): void {
  for (const element of root.querySelectorAll<HTMLElement>('time[data-countdown]')) {
    const iso = element.getAttribute('datetime');
    if (iso) setCountdown(element, element.dataset.countdown as CountdownKind, iso, now);
  }
}

export function violationChips(violations: readonly ViolationLike[]): HTMLElement {
  if (violations.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'ul',
    { class: 'chips', 'aria-label': 'violations' },
    violations.map((violation) => h('li', { class: 'chip', title: typeof violation === 'string' ? violation : violation.message }, violationLabel(violation))),
  );
}

export function riskMeter(score: number): HTMLElement {
  const level = score >= 60 ? 'high' : score >= 25 ? 'medium' : score > 0 ? 'low' : 'none';
  const fill = h('span');
  // Through the CSSOM: the Content-Security-Policy allows no inline style attributes.
  fill.style.width = `${Math.max(0, Math.min(100, score))}%`;
  return h('span', { class: `risk risk-${level}`, title: `risk score ${score} of 100` }, h('span', { class: 'risk-value' }, String(score)), h('span', { class: 'risk-bar', 'aria-hidden': 'true' }, fill));
}

export function emptyState(title: string, ...body: Child[]): HTMLElement {
  return h('div', { class: 'empty', role: 'status' }, h('p', { class: 'empty-title' }, title), body.length > 0 ? h('p', null, body) : null);
}

export function errorState(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  return h('div', { class: 'error', role: 'alert' }, h('p', { class: 'empty-title' }, 'Something went wrong'), h('p', null, message));
}

export function pageHeader(title: string, ...extra: Child[]): HTMLElement {
  return h('div', { class: 'page-header' }, h('h1', { tabindex: '-1' }, title), extra);
}

export function code(text: string): HTMLElement {
  return h('code', null, text);
}
