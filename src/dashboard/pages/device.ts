/**
 * One device: why it is blocked (or not), its latest report signal by signal with the
 * agent's evidence, pending remediation, its status history from the audit log, and the
 * admin actions — quarantine, release, exempt — each after a confirmation.
 */
import { ApiError, patchRows, rows } from '../api.ts';
import { confirmDialog } from '../dialog.ts';
import { announce, h, replace } from '../dom.ts';
import type { Child } from '../dom.ts';
import type { ViolationLike } from '../format.ts';
import { SIGNALS, auditSummary, eventLabel, eventTone, requirementText, signalValue, violationCode, violationExplanation, violationLabel, violationSignal } from '../format.ts';
import { REQUIREMENTS } from '../../shared/signals.ts';
import { combinePolicies } from '../../shared/posture.ts';
import type { AgentCommandRow, AuditRow, Machine, OrgSettingsRow, PolicyRow, PostureReportRow, SignalEvidence } from '../types.ts';
import type { Page } from './common.ts';
import { complianceBadge, complianceOf, emptyState, errorState, pageHeader, refreshTimes, riskMeter, statusBadge, timeCell } from './common.ts';

interface DeviceData {
  machine: Machine;
  report: PostureReportRow | undefined;
  policies: PolicyRow[];
  settings: OrgSettingsRow | undefined;
  audit: AuditRow[];
  commands: AgentCommandRow[];
}

export const devicePage: Page = (main, params, context) => {
  const id = params[0] ?? '';
  let data: DeviceData | null = null;
  const header = h('div');
  const facts = h('div');
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Admin actions' });
  const feedback = h('div', { class: 'feedback', 'aria-live': 'polite' });
  const verdict = h('section', { class: 'verdict', 'aria-labelledby': 'verdict-title' });
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
      const [reports, policies, settings, audit, commands] = await Promise.all([
        rows<PostureReportRow>('posture_reports', { machine_id: `eq.${id}` }),
        rows<PolicyRow>('posture_policies', { enabled: 'eq.true' }),
        rows<OrgSettingsRow>('org_settings'),
        rows<AuditRow>('audit_log', { machine_id: `eq.${id}`, order: 'created_at.desc', limit: '100' }),
        rows<AgentCommandRow>('agent_commands', { machine_id: `eq.${id}`, order: 'created_at.desc', limit: '20' }),
      ]);
      const first = data === null;
      data = { machine, report: reports[0], policies, settings: settings[0], audit, commands };
      if (first) replace(main, h('a', { class: 'back', href: '#/devices' }, '← All devices'), header, facts, actions, feedback, verdict, signals, h('div', { class: 'columns' }, remediation, history));
      renderAll();
      if (first) header.querySelector('h1')?.focus();
    } catch (error) {
      if (data === null) replace(main, h('a', { class: 'back', href: '#/devices' }, '← All devices'), errorState(error));
    }
  }

  function renderAll(): void {
    renderHeader();
    renderActions();
    renderVerdict();
    renderSignals();
    renderRemediation();
    renderHistory();
  }

  function renderHeader(): void {
    if (!data) return;
    const { machine, report } = data;
    const pending = machine.posture_state === 'pending' ? h('span', { class: 'badge pending', 'data-posture-state': 'pending', title: 'No current posture verdict: in enforce mode this device has no access until it reports' }, 'Pending') : null;
    replace(header, pageHeader(machine.hostname, h('span', { class: 'header-badges' }, statusBadge(machine), complianceBadge(complianceOf(report)), pending, machine.posture_exempt ? h('span', { class: 'badge exempt' }, 'Exempt') : null)));
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
      machine.posture_exempt
        ? h('button', { type: 'button', class: 'button', 'data-action': 'unexempt', onclick: () => void setExempt(false) }, 'Remove exemption…')
        : h('button', { type: 'button', class: 'button', 'data-action': 'exempt', onclick: () => void setExempt(true) }, 'Exempt from posture…'),
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
        ? h('ul', { class: 'violations' }, violations.map((violation) => h('li', null, h('strong', null, violationLabel(violation)), ' — ', violationExplanation(violation, platform), ' ', h('code', { class: 'code-name' }, violationCode(violation)))))
        : null;
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
    } else if (violations.length > 0) {
      tone = 'warning';
      title = 'Why is this device non-compliant?';
      body.push(list);
      const why = machine.posture_exempt
        ? 'It is exempt from posture: recorded, never quarantined.'
        : mode === 'enforce'
          ? machine.status === 'offline'
            ? 'It is offline: it will be quarantined as soon as it comes back, unless a compliant report arrives first.'
            : 'An admin released it; its next failing report quarantines it again.'
          : `The org is in ${mode} mode, so it keeps its access. In enforce mode it would be quarantined.`;
      body.push(h('p', { class: 'muted' }, why));
    } else {
      tone = 'ok';
      title = report.mode === 'disabled' ? 'Posture not evaluated' : 'This device meets the posture policy';
      body.push(h('p', null, report.mode === 'disabled' ? 'Enforcement was disabled when it last reported: its report was stored but not evaluated.' : 'Its latest report has no violations.'));
    }
    verdict.className = `verdict verdict-${tone}`;
    replace(verdict, h('h2', { id: 'verdict-title' }, title), body);
  }

  function renderSignals(): void {
    if (!data) return;
    const { report, policies } = data;
    if (!report) {
      replace(signals, h('h2', { id: 'signals-title' }, 'Latest posture report'), emptyState('No report yet', 'The agent sends one when it enrolls (', h('code', null, 'ztna up'), ') and every few minutes after.'));
      return;
    }
    const required = combinePolicies(policies);
    const platform = report.platform ?? report.extras?.platform ?? data.machine.os;
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

  async function setExempt(exempt: boolean): Promise<void> {
    if (!data) return;
    const host = data.machine.hostname;
    const ok = await confirmDialog({
      title: exempt ? `Exempt ${host} from posture?` : `Remove the exemption of ${host}?`,
      body: exempt
        ? [h('p', null, 'Its reports are still evaluated and recorded, but it is never quarantined or denied for posture.'), h('p', null, 'In enforce mode a posture quarantine is lifted at once (a manual one is not).')]
        : [h('p', null, 'It is held to the posture policy again.'), h('p', null, 'In enforce mode, if its latest report fails, it is quarantined at once.')],
      confirmLabel: exempt ? 'Exempt' : 'Remove exemption',
      danger: !exempt,
    });
    if (!ok) return;
    try {
      applyMachine((await patchRows<Machine>('machines', { id }, { posture_exempt: exempt }))[0]);
      replace(feedback, h('p', { class: 'ok' }, exempt ? `${host} is exempt from posture.` : `${host} is held to the posture policy again.`));
    } catch (error) {
      showError(error);
    }
  }

  async function reloadPart(part: 'machine' | 'report' | 'commands'): Promise<void> {
    if (!data) return;
    if (part === 'machine') applyMachine((await rows<Machine>('machines', { id: `eq.${id}` }))[0]);
    if (part === 'report') {
      data.report = (await rows<PostureReportRow>('posture_reports', { machine_id: `eq.${id}` }))[0];
      renderHeader();
      renderVerdict();
      renderSignals();
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
      else applyMachine({ ...data.machine, ...(row as unknown as Machine) });
    } else if (event.table === 'posture_reports' && row.machine_id === id) {
      void reloadPart('report'); // the event leaves the evidence out
    } else if (event.table === 'audit_log' && row.machine_id === id) {
      if (typeof row.event === 'string' && typeof row.created_at === 'string' && !data.audit.some((entry) => entry.id === row.id)) {
        data.audit.unshift(row as unknown as AuditRow);
        renderHistory();
      }
      if (row.event === 'ai.auto_remediation_prepared' || row.event === 'agent_command.result') void reloadPart('commands');
      if (String(row.event).startsWith('machine.manual_')) void reloadPart('machine');
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
