/**
 * One device: why it is blocked (or not) — or when it will be, counting down while it is
 * inside a grace period (SPEC 7.3) — its exemptions (granted with a reason and an end,
 * ended early after a confirmation), its latest report signal by signal with the agent's
 * evidence, pending remediation, its status history from the audit log, and the admin
 * actions — quarantine, release, exempt — each after a confirmation.
 */
import { ApiError, api, patchRows, rows } from '../api.ts';
import { confirmDialog } from '../dialog.ts';
import { announce, h, replace } from '../dom.ts';
import type { Child } from '../dom.ts';
import type { ViolationLike } from '../format.ts';
import type { DurationUnit } from '../format.ts';
import {
  MAX_EXEMPTION_S,
  SIGNALS,
  VIOLATION_CODES,
  auditSummary,
  codeLabel,
  eventLabel,
  eventTone,
  exemptionCodesText,
  graceDeadline,
  localTime,
  parseDuration,
  requirementText,
  signalValue,
  violationCode,
  violationExplanation,
  violationLabel,
  violationSignal,
} from '../format.ts';
import type { ExemptionView } from '../exemptions.ts';
import { exemptionHistory } from '../exemptions.ts';
import { REQUIREMENTS } from '../../shared/signals.ts';
import { combinePolicies } from '../../shared/posture.ts';
import { applyingPolicies } from '../../shared/lifecycle.ts';
import type { AgentCommandRow, AuditRow, ExemptionRow, Machine, OrgSettingsRow, PolicyRow, PostureReportRow, SignalEvidence } from '../types.ts';
import type { Page } from './common.ts';
import { complianceBadge, complianceOf, countdownElement, emptyState, errorState, pageHeader, refreshTimes, riskMeter, statusBadge, timeCell } from './common.ts';

/** The exemption form's default length (SPEC 7.3 allows at most 90 days). */
const DEFAULT_EXEMPTION_DAYS = 7;
/** The audit events that tell an exemption's story (an exemption ended early is deleted). */
const EXEMPTION_EVENTS = ['machine.exemption_granted', 'machine.exemption_expired'];

interface DeviceData {
  machine: Machine;
  report: PostureReportRow | undefined;
  policies: PolicyRow[];
  settings: OrgSettingsRow | undefined;
  audit: AuditRow[];
  commands: AgentCommandRow[];
  exemptions: ExemptionRow[];
  /** Grants and ends of exemptions, for the ones ended early (deleted rows). */
  exemptionEvents: AuditRow[];
}

export const devicePage: Page = (main, params, context) => {
  const id = params[0] ?? '';
  let data: DeviceData | null = null;
  const header = h('div');
  const facts = h('div');
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Admin actions' });
  const feedback = h('div', { class: 'feedback', 'aria-live': 'polite' });
  const verdict = h('section', { class: 'verdict', 'aria-labelledby': 'verdict-title' });
  const exemptionsPanel = h('section', { class: 'panel', id: 'exemptions', 'aria-labelledby': 'exemptions-title' });
  const exemptionList = h('div');
  // Built once: live updates re-render the list above it, never what the admin is typing.
  const grant = grantForm();
  replace(
    exemptionsPanel,
    h('h2', { id: 'exemptions-title' }, 'Exemptions'),
    h('p', { class: 'muted' }, 'An exemption keeps the violations it covers from quarantining this device until it ends; they are still evaluated and recorded. When it ends, the device is judged again at once.'),
    exemptionList,
    grant.form,
  );
  const signals = h('section', { class: 'panel', 'aria-labelledby': 'signals-title' });
  const remediation = h('section', { class: 'panel', 'aria-labelledby': 'remediation-title' });
  const history = h('section', { class: 'panel', 'aria-labelledby': 'history-title' });

  replace(main, h('a', { class: 'back', href: '#/devices' }, '← All devices'), header, h('p', { class: 'muted' }, 'Loading device…'));

  async function load(): Promise<void> {
    try {
      const [machine] = await rows<Machine>('machines', { id: `eq.${id}` });
      if (!machine) {
        replace(main, h('a', { class: 'back', href: '#/devices' }, '← All devices'), pageHeader('Device not found'), emptyState('There is no device with this id in your organisation', 'It may have been deleted.'));
        return;
      }
      const [reports, policies, settings, audit, commands, exemptions, exemptionEvents] = await Promise.all([
        rows<PostureReportRow>('posture_reports', { machine_id: `eq.${id}` }),
        rows<PolicyRow>('posture_policies', { enabled: 'eq.true' }),
        rows<OrgSettingsRow>('org_settings'),
        rows<AuditRow>('audit_log', { machine_id: `eq.${id}`, order: 'created_at.desc', limit: '100' }),
        rows<AgentCommandRow>('agent_commands', { machine_id: `eq.${id}`, order: 'created_at.desc', limit: '20' }),
        loadExemptions(),
        loadExemptionEvents(),
      ]);
      const first = data === null;
      data = { machine, report: reports[0], policies, settings: settings[0], audit, commands, exemptions, exemptionEvents };
      if (first) replace(main, h('a', { class: 'back', href: '#/devices' }, '← All devices'), header, facts, actions, feedback, verdict, exemptionsPanel, signals, h('div', { class: 'columns' }, remediation, history));
      renderAll();
      if (first) header.querySelector('h1')?.focus();
    } catch (error) {
      if (data === null) replace(main, h('a', { class: 'back', href: '#/devices' }, '← All devices'), errorState(error));
    }
  }

  function loadExemptions(): Promise<ExemptionRow[]> {
    return rows<ExemptionRow>('posture_exemptions', { machine_id: `eq.${id}`, order: 'created_at.desc', limit: '100' });
  }

  function loadExemptionEvents(): Promise<AuditRow[]> {
    return rows<AuditRow>('audit_log', { machine_id: `eq.${id}`, event: `in.(${EXEMPTION_EVENTS.join(',')})`, order: 'created_at.desc', limit: '200' });
  }

  function renderAll(): void {
    renderHeader();
    renderActions();
    renderVerdict();
    renderExemptions();
    renderSignals();
    renderRemediation();
    renderHistory();
  }

  function renderHeader(): void {
    if (!data) return;
    const { machine, report } = data;
    const pending = machine.posture_state === 'pending' ? h('span', { class: 'badge pending', 'data-posture-state': 'pending', title: 'No current posture verdict: in enforce mode this device has no access until it reports' }, 'Pending') : null;
    const grace = machine.posture_state === 'grace' && machine.status !== 'quarantined' ? h('span', { class: 'badge grace', 'data-posture-state': 'grace', title: 'Failing inside a grace period: blocked when it ends unless fixed first' }, 'In grace') : null;
    const exempt = machine.posture_exempt || machine.posture_state === 'exempt' ? h('span', { class: 'badge exempt', 'data-posture-state': 'exempt' }, 'Exempt') : null;
    replace(header, pageHeader(machine.hostname, h('span', { class: 'header-badges' }, statusBadge(machine), complianceBadge(complianceOf(report)), pending, grace, exempt)));
    replace(
      facts,
      h(
        'dl',
        { class: 'facts' },
        fact('OS', [machine.os ?? 'unknown', machine.os_version ? ` · ${machine.os_version}` : '']),
        fact('Architecture', machine.arch ?? 'unknown'),
        fact('Agent', machine.agent_version ?? 'unknown'),
        fact('Last seen', timeCell(machine.last_seen)),
        fact('Enrolled', timeCell(machine.created_at)),
        fact('Risk', riskMeter(machine.risk_score)),
        fact('Tags', machine.tags.length > 0 ? machine.tags.join(', ') : '—'),
        fact('Machine id', [h('code', { class: 'id' }, machine.id), h('span', { class: 'sub' }, ' — in access rules, select it as ', h('code', null, `id:${machine.id}`), ': its hostname is the device’s own choice')]),
      ),
    );
  }

  function renderActions(): void {
    if (!data) return;
    const { machine } = data;
    const hadFocus = actions.contains(document.activeElement);
    replace(
      actions,
      machine.status === 'quarantined'
        ? h('button', { type: 'button', class: 'button primary', 'data-action': 'release', onclick: () => void release() }, 'Release…')
        : h('button', { type: 'button', class: 'button danger', 'data-action': 'quarantine', onclick: () => void quarantine() }, 'Quarantine…'),
      // Exemptions have a reason and an end (SPEC 7.3): granted in the Exemptions panel.
      h('button', { type: 'button', class: 'button', 'data-action': 'exempt', onclick: () => openGrantForm() }, 'Exempt…'),
    );
    if (hadFocus) actions.querySelector('button')?.focus();
  }

  function currentViolations(): ViolationLike[] {
    const report = data?.report;
    return report && report.mode !== 'disabled' ? report.findings : [];
  }

  function renderVerdict(): void {
    if (!data) return;
    const { machine, report, settings } = data;
    const mode = settings?.posture_enforcement ?? 'disabled';
    const violations = currentViolations();
    const platform = report?.platform ?? machine.os;
    const list =
      violations.length > 0
        ? h(
            'ul',
            { class: 'violations' },
            violations.map((violation) =>
              h('li', { 'data-code': violationCode(violation) }, h('strong', null, violationLabel(violation)), ' — ', violationExplanation(violation, platform), ' ', h('code', { class: 'code-name' }, violationCode(violation)), findingWhen(violation)),
            ),
          )
        : null;
    const exempt = machine.posture_exempt || machine.posture_state === 'exempt';
    const deadline = machine.status === 'quarantined' ? null : graceDeadline(machine.posture_state, machine.grace_until, violations, Date.now());
    let tone: 'blocked' | 'warning' | 'ok';
    let title: string;
    const body: Child[] = [];
    if (machine.status === 'quarantined') {
      tone = 'blocked';
      title = 'Why is this device blocked?';
      if (machine.quarantine_reason === 'manual') body.push(h('p', null, 'An admin quarantined this device by hand. It stays quarantined — whatever it reports — until an admin releases it.'));
      else if (machine.quarantine_reason === 'expired') body.push(h('p', null, `Its latest posture report is older than the org allows (${settings?.report_max_age_s ?? '?'} s), so it counts as failing. It is released when a fresh compliant report arrives.`));
      else body.push(h('p', null, 'It failed the posture policy in enforce mode. It is released automatically when it sends a compliant report.'));
      if (list) body.push(h('p', null, 'Its latest report has these violations:'), list);
      body.push(h('p', { class: 'muted' }, 'While quarantined it keeps heartbeating but has no peers, and every access check from or to it is denied.'));
    } else if (!report || (machine.posture_state === 'pending' && !machine.posture_exempt)) {
      tone = mode === 'enforce' ? 'warning' : 'ok';
      title = report ? 'Its posture verdict has expired (pending)' : 'No posture report yet (pending)';
      body.push(
        h(
          'p',
          null,
          report ? `Its latest report is older than the org allows (${settings?.report_max_age_s ?? '?'} s), so there is no current verdict.` : 'This device has not sent a posture report.',
          mode === 'enforce' ? ' In enforce mode a device without a verdict has no access at all: no peers, in no other device’s peer list, and every access check from or to it is denied — until it reports.' : ' Once enforce is on, it will have no access until it reports.',
        ),
      );
    } else if (violations.length > 0 && machine.posture_state === 'grace' && deadline) {
      tone = 'warning';
      title = 'Failing — in its grace period';
      body.push(
        h('p', { class: 'grace-deadline' }, 'It keeps its access for now: it ', countdownElement(deadline, 'blocks-at'), ', unless it is fixed first or exempted.'),
        h('p', null, 'Its latest report has these violations:'),
        list,
        h('p', { class: 'muted' }, 'A compliant report ends the grace period; a violation that comes back starts a new one.'),
      );
    } else if (violations.length > 0) {
      tone = 'warning';
      title = exempt ? 'Non-compliant, but exempt' : 'Why is this device non-compliant?';
      body.push(list);
      const why = exempt
        ? machine.posture_exempt
          ? 'It is exempt from posture (exempt, no expiry): recorded, never quarantined.'
          : 'Exemptions cover every violation: recorded, not quarantined until they end (see Exemptions below).'
        : mode === 'enforce'
          ? machine.status === 'offline'
            ? 'It is offline: it will be quarantined as soon as it comes back, unless a compliant report arrives first.'
            : 'An admin released it; its next failing report quarantines it again.'
          : `The org is in ${mode} mode, so it keeps its access. In enforce mode it would be quarantined (at the end of any grace period its policies give).`;
      body.push(h('p', { class: 'muted' }, why));
    } else {
      tone = 'ok';
      title = report.mode === 'disabled' ? 'Posture not evaluated' : 'This device meets the posture policy';
      body.push(h('p', null, report.mode === 'disabled' ? 'Enforcement was disabled when it last reported: its report was stored but not evaluated.' : 'Its latest report has no violations.'));
    }
    verdict.className = `verdict verdict-${tone}`;
    replace(verdict, h('h2', { id: 'verdict-title' }, title), body);
  }

  /** After a violation: when it blocks (grace) or until when it is exempt, counting down. */
  function findingWhen(violation: ViolationLike): Child {
    if (typeof violation === 'string') return null;
    if (violation.exempt_until !== undefined) return h('span', { class: 'finding-when exempt' }, ' — exempt ', countdownElement(violation.exempt_until, 'until'));
    if (violation.blocks_at !== undefined && data?.machine.status !== 'quarantined') return h('span', { class: 'finding-when grace' }, ' — ', countdownElement(violation.blocks_at, 'blocks-at'));
    return null;
  }

  function renderExemptions(): void {
    if (!data) return;
    const { machine } = data;
    const views = exemptionHistory(data.exemptions, data.exemptionEvents, Date.now());
    const active = views.filter((view) => view.state === 'active');
    const ended = views.filter((view) => view.state !== 'active');
    const hadFocus = exemptionList.contains(document.activeElement);
    replace(
      exemptionList,
      machine.posture_exempt || active.length > 0
        ? h(
            'ul',
            { class: 'exemptions', 'aria-label': 'Active exemptions' },
            machine.posture_exempt
              ? h(
                  'li',
                  { 'data-exemption': 'legacy', 'data-state': 'legacy' },
                  h('div', { class: 'exemption-main' }, h('strong', null, 'All violations'), ' — ', h('span', { class: 'exemption-end' }, 'exempt, no expiry'), h('span', { class: 'sub' }, 'Set with the posture_exempt flag: no reason recorded and no end. Prefer an exemption that ends.')),
                  h('button', { type: 'button', class: 'button subtle', 'data-action': 'unexempt', onclick: () => void endLegacyExemption() }, 'End…'),
                )
              : null,
            active.map(exemptionItem),
          )
        : h('p', { class: 'muted', 'data-empty': 'exemptions' }, 'No active exemption: every violation counts.'),
      ended.length > 0 ? [h('h3', null, 'Ended'), h('ul', { class: 'exemptions ended', 'aria-label': 'Ended exemptions' }, ended.slice(0, 20).map(exemptionItem))] : null,
    );
    if (hadFocus) (exemptionList.querySelector('button') ?? grant.form.querySelector('input'))?.focus();
    grant.markFailing(new Set(currentViolations().map(violationCode)));
  }

  function exemptionItem(view: ExemptionView): HTMLElement {
    const covers = view.codes === null ? h('strong', null, 'All violations') : h('span', { class: 'chips' }, view.codes.map((code) => h('code', { class: 'chip', title: codeLabel(code) }, code)));
    const end =
      view.state === 'active'
        ? ['exempt ', countdownElement(view.expires_at, 'until')]
        : view.state === 'ended_early'
          ? [`ended early by ${view.ended_by ?? 'an admin'} `, timeCell(view.ended_at)]
          : ['expired ', timeCell(view.ended_at)];
    return h(
      'li',
      { 'data-exemption': view.id, 'data-state': view.state },
      h(
        'div',
        { class: 'exemption-main' },
        covers,
        ' — ',
        h('span', { class: 'exemption-end' }, end),
        h('span', { class: 'exemption-reason' }, view.reason ? `“${view.reason}”` : ''),
        h('span', { class: 'sub' }, 'granted by ', view.created_by ?? 'an admin', view.created_at ? [' ', timeCell(view.created_at)] : null, view.state !== 'active' ? ` · was to end ${localTime(view.expires_at)}` : null),
      ),
      view.state === 'active' ? h('button', { type: 'button', class: 'button subtle', 'data-action': 'end-exemption', onclick: () => void endExemption(view) }, 'End…') : null,
    );
  }

  function openGrantForm(): void {
    exemptionsPanel.scrollIntoView({ block: 'start' });
    grant.form.querySelector<HTMLInputElement>('input[name="reason"]')?.focus({ preventScroll: true });
  }

  /** The grant form: what it covers (all, or chosen codes), why (required), and until when (default 7 days, at most 90). */
  function grantForm(): { form: HTMLFormElement; markFailing(codes: ReadonlySet<string>): void } {
    const error = h('p', { class: 'form-error', role: 'alert', id: 'grant-error' });
    const scope = (value: 'all' | 'codes', label: string, checked: boolean) => h('label', { class: 'check' }, h('input', { type: 'radio', name: 'scope', value, checked }), h('span', null, label));
    const failingMarks = new Map<string, HTMLElement>();
    const choices = h(
      'div',
      { class: 'code-choices', role: 'group', 'aria-label': 'Violations to exempt' },
      VIOLATION_CODES.map((code) => {
        const mark = h('span', { class: 'failing-now' });
        failingMarks.set(code, mark);
        return h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'code', value: code, disabled: true }), h('span', null, codeLabel(code), ' ', h('code', null, code), mark));
      }),
    );
    const reason = h('input', { type: 'text', name: 'reason', id: 'grant-reason', maxlength: '500', autocomplete: 'off', placeholder: 'e.g. replacement disk on order, ticket IT-1234', 'aria-describedby': 'grant-error' });
    const amount = h('input', { type: 'number', name: 'expires_amount', id: 'grant-amount', min: '0', step: 'any', inputmode: 'decimal', value: String(DEFAULT_EXEMPTION_DAYS), 'aria-describedby': 'grant-end grant-error' });
    const unit = h('select', { name: 'expires_unit', id: 'grant-unit', 'aria-label': 'Unit' }, h('option', { value: 'days' }, 'days'), h('option', { value: 'hours' }, 'hours'));
    const endHint = h('span', { class: 'hint', id: 'grant-end' });
    const failing = { codes: new Set<string>() };
    const form = h(
      'form',
      { class: 'grant-exemption', 'aria-labelledby': 'grant-title', novalidate: true },
      h('h3', { id: 'grant-title' }, 'Grant an exemption'),
      h('fieldset', { class: 'covers' }, h('legend', null, 'Covers'), scope('all', 'All violations', true), scope('codes', 'Only these violations:', false), choices),
      h('div', { class: 'grant-row' }, h('label', { class: 'field grow', for: 'grant-reason' }, h('span', null, 'Reason (required)'), reason)),
      h('div', { class: 'grant-row' }, h('label', { class: 'field', for: 'grant-amount' }, h('span', null, 'Ends in'), h('span', { class: 'duration' }, amount, unit)), endHint),
      error,
      h('div', { class: 'policy-actions' }, h('button', { type: 'submit', class: 'button primary', 'data-action': 'grant-exemption' }, 'Grant exemption')),
    );
    const codeBoxes = () => [...choices.querySelectorAll<HTMLInputElement>('input[name="code"]')];
    const chosenScope = () => (form.querySelector<HTMLInputElement>('input[name="scope"]:checked')?.value === 'codes' ? 'codes' : 'all');
    const expiry = () => parseDuration(amount.value, unit.value as DurationUnit, 'Ends in', { min: 60, max: MAX_EXEMPTION_S });
    const updateEnd = () => {
      const parsed = expiry();
      endHint.textContent = 'seconds' in parsed ? `At most 90 days. Ends ${localTime(new Date(Date.now() + parsed.seconds * 1000).toISOString())}.` : 'At most 90 days.';
    };
    form.addEventListener('change', (event) => {
      const target = event.target as HTMLInputElement;
      if (target.name !== 'scope') return;
      const boxes = codeBoxes();
      for (const box of boxes) box.disabled = target.value !== 'codes';
      // Choosing codes starts from what fails now.
      if (target.value === 'codes' && !boxes.some((box) => box.checked)) for (const box of boxes) box.checked = failing.codes.has(box.value);
    });
    amount.addEventListener('input', updateEnd);
    unit.addEventListener('change', updateEnd);
    updateEnd();
    const fail = (message: string, field: HTMLElement) => {
      error.textContent = message;
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
      const codes = chosenScope() === 'codes' ? codeBoxes().filter((box) => box.checked).map((box) => box.value) : null;
      if (codes !== null && codes.length === 0) return fail('Covers: choose at least one violation, or “All violations”.', codeBoxes()[0] ?? form);
      const why = reason.value.trim();
      if (why === '') return fail('Reason: say why this device is exempt — it is shown here and in the audit log.', reason);
      const parsed = expiry();
      if ('error' in parsed) return fail(parsed.error, amount);
      void grantExemption(codes, why, new Date(Date.now() + parsed.seconds * 1000).toISOString(), () => {
        reason.value = '';
        updateEnd();
      });
    });
    return {
      form,
      markFailing(codes) {
        failing.codes = new Set(codes);
        for (const [code, mark] of failingMarks) mark.textContent = codes.has(code) ? ' (failing now)' : '';
        updateEnd();
      },
    };
  }

  async function grantExemption(codes: string[] | null, reason: string, expiresAt: string, done: () => void): Promise<void> {
    if (!data) return;
    const host = data.machine.hostname;
    try {
      await api('POST', '/api/db/posture_exemptions', { machine_id: id, codes, reason, expires_at: expiresAt });
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      const slot = grant.form.querySelector('.form-error');
      if (slot) slot.textContent = `That did not work: ${message}`;
      return;
    }
    done();
    replace(feedback, h('p', { class: 'ok' }, `${host} is exempt from ${codes === null ? 'every violation' : codes.join(', ')} until ${localTime(expiresAt)}.`));
    announce(`${host} is exempt until ${localTime(expiresAt)}`);
    await Promise.all([reloadPart('exemptions'), reloadPart('machine'), reloadPart('report')]).catch(() => undefined);
  }

  async function endExemption(view: ExemptionView): Promise<void> {
    if (!data) return;
    const host = data.machine.hostname;
    const covered = view.codes === null ? currentViolations() : currentViolations().filter((violation) => view.codes?.some((prefix) => violationCode(violation).startsWith(prefix)));
    const enforce = data.settings?.posture_enforcement === 'enforce';
    const ok = await confirmDialog({
      title: `End this exemption of ${host}?`,
      body: [
        h('p', null, `It covers ${exemptionCodesText(view.codes)}${view.reason ? ` (“${view.reason}”)` : ''} and would end ${localTime(view.expires_at)}. Ended now, it stops covering anything at once.`),
        enforce && covered.length > 0
          ? h('p', { class: 'warning-text' }, `Its latest report fails what it covers (${covered.map(violationLabel).join(', ')}): in enforce mode ${host} is quarantined at once — or at the end of its grace period — unless another exemption covers it.`)
          : null,
      ],
      confirmLabel: 'End exemption',
      danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/db/posture_exemptions?id=eq.${encodeURIComponent(view.id)}`);
    } catch (error) {
      showError(error);
      return;
    }
    replace(feedback, h('p', { class: 'ok' }, `The exemption of ${host} from ${exemptionCodesText(view.codes)} has ended.`));
    announce(`Exemption of ${host} ended`);
    await Promise.all([reloadPart('exemptions'), reloadPart('machine'), reloadPart('report')]).catch(() => undefined);
  }

  function renderSignals(): void {
    if (!data) return;
    const { report, policies } = data;
    if (!report) {
      replace(signals, h('h2', { id: 'signals-title' }, 'Latest posture report'), emptyState('No report yet', 'The agent sends one when it enrolls (', h('code', null, 'ztna up'), ') and every few minutes after.'));
      return;
    }
    const platform = report.platform ?? report.extras?.platform ?? data.machine.os;
    // SPEC 7.3: only the policies that apply to this device (its platform, its tags) combine for it.
    const required = combinePolicies(applyingPolicies(policies, { platform, tags: data.machine.tags }));
    const requiredOf = (key: string): string => {
      const texts = REQUIREMENTS.filter((requirement) => requirement.subject === key).map((requirement) => requirementText(requirement, required[requirement.field], platform));
      return texts.find((text) => text !== null) ?? (texts.length > 0 ? 'not required' : 'recorded only');
    };
    const failing = new Set(currentViolations().map(violationSignal).filter((key) => key !== null));
    const evidence = report.extras?.evidence ?? {};
    const extras = report.extras ?? {};
    replace(
      signals,
      h('h2', { id: 'signals-title' }, 'Latest posture report'),
      h(
        'p',
        { class: 'report-meta' },
        'Reported ',
        timeCell(report.reported_at),
        ` · evaluated in ${report.mode} mode`,
        extras.agent_version ? ` · agent ${extras.agent_version}` : '',
        extras.platform ? ` · ${extras.platform}${extras.arch ? `/${extras.arch}` : ''}` : '',
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'signals', 'aria-label': 'Posture signals' },
          h('colgroup', null, ['signal', 'value', 'required', 'result', 'evidence'].map((name) => h('col', { class: `col-${name}` }))),
          h('thead', null, h('tr', null, ['Signal', 'Reported', 'Policy', 'Result', 'Evidence'].map((label) => h('th', { scope: 'col' }, label)))),
          h(
            'tbody',
            null,
            SIGNALS.map(({ key, label }) => {
              const value = report[key];
              const policy = requiredOf(key);
              const result = policy === 'recorded only' ? 'info' : report.mode === 'disabled' ? 'not_evaluated' : failing.has(key) ? 'fail' : policy === 'not required' ? 'not_required' : 'pass';
              return h(
                'tr',
                { 'data-signal': key, 'data-result': result },
                h('th', { scope: 'row', 'data-label': 'Signal' }, label),
                h('td', { 'data-label': 'Reported' }, h('span', { class: `value value-${value === null ? 'unknown' : value === false ? 'off' : 'on'}` }, signalValue(key, value))),
                h('td', { 'data-label': 'Policy' }, policy),
                h('td', { 'data-label': 'Result' }, resultBadge(result)),
                h('td', { 'data-label': 'Evidence', class: 'cell-evidence' }, evidenceBlock(evidence[key])),
              );
            }),
          ),
        ),
      ),
    );
  }

  function renderRemediation(): void {
    if (!data) return;
    const now = Date.now();
    const pending = data.commands.filter((command) => command.status === 'pending' && Date.parse(command.expires_at) > now);
    const past = data.commands.filter((command) => !pending.includes(command)).slice(0, 5);
    replace(
      remediation,
      h('h2', { id: 'remediation-title' }, 'Pending remediation'),
      pending.length === 0
        ? emptyState('Nothing pending', 'With the AI operator on, a quarantine for a missing firewall or disk encryption prepares a fix here; the person at the device applies it with ', h('code', null, 'ztna remediate'), '.')
        : h('ul', { class: 'commands' }, pending.map((command) => h('li', { 'data-command': command.command }, h('strong', null, command.command), h('span', { class: 'sub' }, 'prepared ', timeCell(command.created_at), ' · expires ', timeCell(command.expires_at))))),
      past.length > 0 ? h('details', { class: 'past-commands' }, h('summary', null, `Earlier commands (${past.length})`), h('ul', { class: 'commands' }, past.map((command) => h('li', null, h('strong', null, command.command), ` — ${command.status}`, h('span', { class: 'sub' }, timeCell(command.created_at)))))) : null,
    );
  }

  function renderHistory(): void {
    if (!data) return;
    replace(
      history,
      h('h2', { id: 'history-title' }, 'Status history'),
      data.audit.length === 0
        ? emptyState('No events yet')
        : h(
            'ol',
            { class: 'timeline' },
            data.audit.map((row) => h('li', { class: `tone-${eventTone(row.event)}`, 'data-event': row.event }, h('span', { class: 'event' }, eventLabel(row.event)), h('span', { class: 'summary-line' }, auditSummary(row.event, row.details)), h('span', { class: 'sub' }, timeCell(row.created_at), ` · ${row.actor}`))),
          ),
    );
  }

  function showError(error: unknown): void {
    const message = error instanceof ApiError ? error.message : String(error);
    replace(feedback, h('p', { class: 'error', role: 'alert' }, `That did not work: ${message}`));
  }

  function applyMachine(machine: Machine | undefined): void {
    if (!data || !machine) return;
    data.machine = machine;
    renderHeader();
    renderActions();
    renderVerdict();
    renderExemptions();
  }

  async function quarantine(): Promise<void> {
    if (!data) return;
    const host = data.machine.hostname;
    const ok = await confirmDialog({
      title: `Quarantine ${host}?`,
      body: [h('p', null, `${host} loses every peer and every access check from or to it is denied, at once.`), h('p', null, 'A manual quarantine is not lifted by a compliant report: it lasts until an admin releases the device.')],
      confirmLabel: 'Quarantine',
      danger: true,
    });
    if (!ok) return;
    try {
      applyMachine((await patchRows<Machine>('machines', { id }, { status: 'quarantined' }))[0]);
      replace(feedback, h('p', { class: 'ok' }, `${host} is quarantined.`));
      announce(`${host} is quarantined`);
    } catch (error) {
      showError(error);
    }
  }

  async function release(): Promise<void> {
    if (!data) return;
    const host = data.machine.hostname;
    const violations = currentViolations();
    const enforce = data.settings?.posture_enforcement === 'enforce';
    const ok = await confirmDialog({
      title: `Release ${host}?`,
      body: [
        h('p', null, `${host} gets its peers back and is evaluated by ACLs again, at once.`),
        enforce && violations.length > 0 && !data.machine.posture_exempt
          ? h('p', { class: 'warning-text' }, `Its latest report still fails (${violations.map(violationLabel).join(', ')}): its next report quarantines it again unless it is fixed — or exempt it instead.`)
          : null,
      ],
      confirmLabel: 'Release',
    });
    if (!ok) return;
    try {
      applyMachine((await patchRows<Machine>('machines', { id }, { status: 'online' }))[0]);
      replace(feedback, h('p', { class: 'ok' }, `${host} is released.`));
      announce(`${host} is released`);
    } catch (error) {
      showError(error);
    }
  }

  /** Ends the legacy flag (exempt, no expiry). New exemptions are granted with a reason and an end (grantForm). */
  async function endLegacyExemption(): Promise<void> {
    if (!data) return;
    const host = data.machine.hostname;
    const ok = await confirmDialog({
      title: `End the exemption of ${host} (no expiry)?`,
      body: [h('p', null, 'It is held to the posture policy again (its other exemptions, if any, still apply).'), h('p', null, 'In enforce mode, if its latest report fails, it is quarantined at once — or at the end of its grace period.')],
      confirmLabel: 'End exemption',
      danger: true,
    });
    if (!ok) return;
    try {
      applyMachine((await patchRows<Machine>('machines', { id }, { posture_exempt: false }))[0]);
      replace(feedback, h('p', { class: 'ok' }, `${host} is no longer exempt without expiry.`));
    } catch (error) {
      showError(error);
      return;
    }
    await reloadPart('report').catch(() => undefined);
  }

  async function reloadPart(part: 'machine' | 'report' | 'commands' | 'exemptions'): Promise<void> {
    if (!data) return;
    if (part === 'machine') applyMachine((await rows<Machine>('machines', { id: `eq.${id}` }))[0]);
    if (part === 'report') {
      data.report = (await rows<PostureReportRow>('posture_reports', { machine_id: `eq.${id}` }))[0];
      renderHeader();
      renderVerdict();
      renderExemptions();
      renderSignals();
    }
    if (part === 'exemptions') {
      const [exemptions, events] = await Promise.all([loadExemptions(), loadExemptionEvents()]);
      data.exemptions = exemptions;
      data.exemptionEvents = events;
      renderExemptions();
    }
    if (part === 'commands') {
      data.commands = await rows<AgentCommandRow>('agent_commands', { machine_id: `eq.${id}`, order: 'created_at.desc', limit: '20' });
      renderRemediation();
    }
  }

  const unsubscribe = context.live.subscribe((event) => {
    if (event.type === 'resync') {
      void load();
      return;
    }
    if (!data) return;
    const row = event.data as Record<string, unknown>;
    if (event.table === 'machines' && row.id === id) {
      if (event.type === 'DELETE') void load();
      else if (row.truncated === true || typeof row.hostname !== 'string') void reloadPart('machine');
      else {
        const before = data.machine;
        applyMachine({ ...data.machine, ...(row as unknown as Machine) });
        // A new judgement (grace began or ended, an exemption began or ended, a re-evaluation)
        // also rewrote the stored findings' blocks_at / exempt_until: no report event says so.
        if (before.posture_state !== data.machine.posture_state || before.grace_until !== data.machine.grace_until || before.status !== data.machine.status) void reloadPart('report');
      }
    } else if (event.table === 'posture_reports' && row.machine_id === id) {
      void reloadPart('report'); // the event leaves the evidence out
    } else if (event.table === 'audit_log' && row.machine_id === id) {
      if (typeof row.event === 'string' && typeof row.created_at === 'string' && !data.audit.some((entry) => entry.id === row.id)) {
        data.audit.unshift(row as unknown as AuditRow);
        renderHistory();
      }
      if (row.event === 'ai.auto_remediation_prepared' || row.event === 'agent_command.result') void reloadPart('commands');
      if (String(row.event).startsWith('machine.manual_')) void reloadPart('machine');
      if (typeof row.event === 'string' && (EXEMPTION_EVENTS.includes(row.event) || row.event === 'machine.exemption_changed')) void reloadPart('exemptions');
    } else if (event.table === 'audit_log' && (row.event === 'posture.policy_changed' || row.event === 'org.settings_updated')) {
      void load(); // required signals or the mode changed
    }
  });

  void load();
  const clock = window.setInterval(() => refreshTimes(main), 15_000);
  return () => {
    unsubscribe();
    window.clearInterval(clock);
  };
};

function fact(label: string, value: Child): HTMLElement {
  return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, value));
}

const RESULT_TEXT: Record<string, string> = { pass: 'Pass', fail: 'Fail', not_required: 'Not required', not_evaluated: 'Not evaluated', info: 'Recorded' };

function resultBadge(result: string): HTMLElement {
  return h('span', { class: `badge result-${result}` }, RESULT_TEXT[result] ?? result);
}

function evidenceBlock(evidence: SignalEvidence | undefined): Child {
  if (!evidence) return h('span', { class: 'muted' }, 'no evidence sent');
  const observations = Array.isArray(evidence.observations) ? evidence.observations : [];
  const meta = [
    evidence.method ? `method: ${evidence.method}` : null,
    evidence.reason ? `reason: ${evidence.reason}` : null,
    typeof evidence.duration_ms === 'number' ? `${Math.round(evidence.duration_ms)} ms` : null,
    evidence.privileged === true ? 'as root' : evidence.privileged === false ? 'unprivileged' : null,
  ].filter((part): part is string => part !== null);
  return [
    h('p', { class: 'evidence-detail' }, evidence.detail ?? ''),
    meta.length > 0 ? h('p', { class: 'sub' }, meta.join(' · ')) : null,
    observations.length > 0
      ? h(
          'details',
          { class: 'observations' },
          h('summary', null, `What the agent ran and read (${observations.length})`),
          h(
            'ul',
            null,
            observations.slice(0, 20).map((observation) =>
              h(
                'li',
                null,
                h('code', null, observation.command ? observation.command.join(' ') : (observation.file ?? '?')),
                observation.exit_code !== undefined ? h('span', { class: 'sub' }, ` exit ${String(observation.exit_code)}`) : null,
                observation.failure ? h('span', { class: 'sub' }, ` ${observation.failure}`) : null,
                observation.seen ? h('pre', null, observation.seen.slice(0, 2000)) : null,
              ),
            ),
          ),
        )
      : null,
  ];
}
