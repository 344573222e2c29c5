/**
 * Posture policy & mode: switch disabled / monitor / enforce, and edit the org's
 * policies. Before switching to enforce — and before saving or deleting a policy while in
 * enforce — the page shows the impact (`POST /api/posture/impact`): which online devices
 * would be quarantined right now, computed by the server from their stored reports
 * without changing anything. Nothing is applied until the admin confirms.
 *
 * Below, the org's access rules, read-only, with what each selector means: a `host:` (or
 * bare-name) selector names a value the device chose itself, so the page marks it and
 * says to prefer `id:` and `tag:` (SPEC 7.1).
 */
import { ApiError, api, impact, rows } from '../api.ts';
import { confirmDialog } from '../dialog.ts';
import { announce, h, replace } from '../dom.ts';
import type { Child } from '../dom.ts';
import { combinePolicies } from '../../shared/posture.ts';
import type { Platform, PolicyRequirements, RequirementField } from '../../shared/signals.ts';
import { PLATFORMS, REQUIREMENTS, requirementDefault } from '../../shared/signals.ts';
import { isVersion } from '../../shared/versions.ts';
import { requirementText } from '../format.ts';
import type { AclRuleRow, ImpactPreview, ImpactedMachine, Mode, OrgSettingsRow, PolicyRow } from '../types.ts';
import type { Page } from './common.ts';
import { emptyState, errorState, pageHeader, violationChips } from './common.ts';

const MODES: ReadonlyArray<{ mode: Mode; title: string; text: string }> = [
  { mode: 'disabled', title: 'Disabled', text: 'Reports are stored but not evaluated. Nobody is quarantined.' },
  { mode: 'monitor', title: 'Monitor', text: 'Reports are evaluated and violations recorded; nobody is quarantined or released. Measure who would break.' },
  { mode: 'enforce', title: 'Enforce', text: 'Failing online devices are quarantined and compliant ones released. Every change re-evaluates all devices at once.' },
];

/** What the form edits: name, enabled and every requirement of the catalogue. */
type PolicyFields = Pick<PolicyRow, 'name' | 'enabled'> & PolicyRequirements;

export const policyPage: Page = (main, _params, context) => {
  let settings: OrgSettingsRow | null = null;
  let policies: PolicyRow[] = [];
  let dirty = false;
  let busy = false;
  const modeSection = h('section', { class: 'panel', 'aria-labelledby': 'mode-title' });
  const previewArea = h('div', { class: 'preview-area', 'aria-live': 'polite' });
  const policySection = h('section', { class: 'panel', 'aria-labelledby': 'policies-title' });
  const feedback = h('div', { class: 'feedback', 'aria-live': 'polite' });
  const rulesSection = h('section', { class: 'panel', 'aria-labelledby': 'rules-title' });

  replace(main, pageHeader('Posture policy & mode'), h('p', { class: 'muted' }, 'Loading…'));

  async function load(): Promise<void> {
    try {
      const [settingsRows, policyRows, ruleRows] = await Promise.all([
        rows<OrgSettingsRow>('org_settings'),
        rows<PolicyRow>('posture_policies', { order: 'created_at.asc' }),
        rows<AclRuleRow>('acl_rules', { order: 'priority.asc' }),
      ]);
      const first = settings === null;
      settings = settingsRows[0] ?? null;
      policies = policyRows;
      if (first) replace(main, pageHeader('Posture policy & mode'), feedback, modeSection, policySection, rulesSection);
      renderRules(ruleRows);
      renderMode();
      if (!dirty) renderPolicies();
      if (settings) context.modeChanged(settings.posture_enforcement);
      if (first) main.querySelector('h1')?.focus();
    } catch (error) {
      if (settings === null) replace(main, pageHeader('Posture policy & mode'), errorState(error));
    }
  }

  function renderRules(rules: readonly AclRuleRow[]): void {
    const selectors = (list: string) =>
      list.split(',').map((raw, index) => {
        const entry = raw.trim();
        // A bare word that is no UUID, like host:, names a device-chosen hostname.
        const host = /^host:/i.test(entry) || !(entry === '*' || /^(id|tag):/i.test(entry) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(entry));
        return [index > 0 ? ', ' : null, host ? h('code', { class: 'selector-host', title: 'A hostname is chosen by the device itself: prefer id: or tag:' }, entry, ' ⚠') : h('code', null, entry)];
      });
    replace(
      rulesSection,
      h('h2', { id: 'rules-title' }, 'Access rules'),
      h(
        'p',
        { class: 'muted' },
        'Checked by ascending priority after quarantine and posture; the first match decides, nothing matching is denied. Selectors: ',
        h('code', null, '*'),
        ', ',
        h('code', null, 'id:<machine id>'),
        ', ',
        h('code', null, 'tag:<tag>'),
        ' (tags come only from auth keys and admins) and ',
        h('code', null, 'host:<hostname>'),
        '. ',
        h('strong', null, 'A hostname is the device’s own choice:'),
        ' prefer ',
        h('code', null, 'id:'),
        ' and ',
        h('code', null, 'tag:'),
        '. A second device enrolling under a held name is renamed (laptop → laptop-2), but a name that was freed can be taken. Rules are edited through ',
        h('code', null, '/api/db/acl_rules'),
        '.',
      ),
      rules.length === 0
        ? emptyState('No access rules: every access check is denied (default_deny).')
        : h(
            'table',
            { class: 'rules-table' },
            h('thead', null, h('tr', null, ['Priority', 'Name', 'Action', 'From', 'To', 'Ports'].map((label) => h('th', { scope: 'col' }, label)))),
            h(
              'tbody',
              null,
              rules.map((rule) =>
                h('tr', { 'data-rule': rule.id }, h('td', null, String(rule.priority)), h('td', null, rule.name), h('td', null, rule.action), h('td', null, selectors(rule.src)), h('td', null, selectors(rule.dst)), h('td', null, h('code', null, rule.ports))),
              ),
            ),
          ),
    );
  }

  function renderMode(): void {
    if (!settings) return;
    const current = settings.posture_enforcement;
    replace(
      modeSection,
      h('h2', { id: 'mode-title' }, 'Enforcement mode'),
      h('p', null, 'The org is in ', h('strong', { 'data-current-mode': current }, current), ' mode. The safe roll-out: start in monitor, preview who would break, fix the long tail, then enforce.'),
      h(
        'div',
        { class: 'mode-options', role: 'group', 'aria-label': 'Enforcement mode' },
        MODES.map(({ mode, title, text }) =>
          h(
            'button',
            { type: 'button', class: `mode-option mode-option-${mode}`, 'aria-pressed': String(mode === current), 'data-mode': mode, disabled: busy, onclick: () => void switchMode(mode) },
            h('span', { class: 'mode-title' }, title, mode === current ? h('span', { class: 'current-tag' }, 'current') : null),
            h('span', { class: 'mode-text' }, text),
          ),
        ),
      ),
      h('div', { class: 'preview-actions' }, h('button', { type: 'button', class: 'button', id: 'preview-enforce', onclick: () => void previewEnforce() }, 'Preview impact of enforce')),
      previewArea,
    );
  }

  async function previewEnforce(): Promise<void> {
    replace(previewArea, h('p', { class: 'muted' }, 'Computing…'));
    try {
      const preview = await impact({ mode: 'enforce' });
      replace(previewArea, h('div', { class: 'impact-box' }, h('h3', null, settings?.posture_enforcement === 'enforce' ? 'Enforce now, re-evaluated' : 'If you switch to enforce now'), impactView(preview)));
    } catch (error) {
      replace(previewArea, errorState(error));
    }
  }

  async function switchMode(mode: Mode): Promise<void> {
    if (!settings || mode === settings.posture_enforcement || busy) return;
    const from = settings.posture_enforcement;
    let body: Child;
    if (mode === 'enforce') {
      let preview: ImpactPreview;
      try {
        preview = await impact({ mode: 'enforce' });
      } catch (error) {
        showError(error);
        return;
      }
      body = [h('p', null, 'Every device’s latest report is evaluated at once.'), impactView(preview)];
    } else {
      const quarantined = (await rows<{ id: string }>('machines', { status: 'eq.quarantined', select: 'id' }).catch(() => [])).length;
      body = [
        h('p', null, mode === 'monitor' ? 'Reports stay evaluated and violations recorded, but nobody is quarantined or released.' : 'Reports are stored without evaluation.'),
        from === 'enforce' && quarantined > 0 ? h('p', { class: 'warning-text' }, `${quarantined} quarantined device${quarantined === 1 ? '' : 's'} stay${quarantined === 1 ? 's' : ''} quarantined: release them from their device page.`) : null,
      ];
    }
    const ok = await confirmDialog({ title: `Switch to ${mode}?`, body, confirmLabel: `Switch to ${mode}`, danger: mode === 'enforce' });
    if (!ok) return;
    busy = true;
    renderMode();
    try {
      const result = await api<{ data: OrgSettingsRow[] }>('POST', '/api/org-management', { action: 'update_org_settings', posture_enforcement: mode });
      settings = result.data[0] ?? settings;
      replace(feedback, h('p', { class: 'ok' }, `The org is now in ${mode} mode.`));
      announce(`Enforcement mode is now ${mode}`);
      context.modeChanged(mode);
      replace(previewArea);
    } catch (error) {
      showError(error);
    } finally {
      busy = false;
      renderMode();
      modeSection.querySelector<HTMLButtonElement>(`[data-mode="${mode}"]`)?.focus();
    }
  }

  function renderPolicies(): void {
    const effective = combinePolicies(policies.map((policy) => ({ ...policy })));
    const requirements = REQUIREMENTS.map((requirement) => {
      const text = requirementText(requirement, effective[requirement.field]);
      return text === null ? null : `${requirement.label.replace(/^Require /, '')}${text === 'required' ? '' : ` ${text}`}`;
    }).filter((part): part is string => part !== null);
    replace(
      policySection,
      h('h2', { id: 'policies-title' }, 'Policies'),
      h('p', null, 'Enabled policies combine: a requirement holds if any enabled policy requires it, the smallest patch age and the largest minimum version win. An unknown signal fails a requirement.'),
      h('p', { class: 'effective' }, h('strong', null, 'In effect: '), requirements.length > 0 ? requirements.join(', ') : 'nothing is required'),
      policies.length === 0 ? emptyState('No policies yet', 'Without a policy every report is compliant. Add one below.') : null,
      h('div', { class: 'policies' }, policies.map((policy) => policyForm(policy))),
      h('button', { type: 'button', class: 'button', id: 'add-policy', onclick: addPolicy }, 'Add policy'),
    );
  }

  function addPolicy(): void {
    const container = policySection.querySelector('.policies');
    if (!container) return;
    const form = policyForm(null);
    container.append(form);
    dirty = true;
    form.querySelector('input')?.focus();
  }

  function policyForm(policy: PolicyRow | null): HTMLFormElement {
    const key = policy?.id ?? `new-${Math.random().toString(36).slice(2)}`;
    const input = (name: string, attrs: Record<string, string | boolean>) => h('input', { id: `${key}-${name}`, name, ...attrs });
    const check = (name: 'enabled' | RequirementField, label: string) => h('label', { class: 'check' }, input(name, { type: 'checkbox', checked: Boolean(policy ? policy[name] : name === 'enabled') }), h('span', null, label));
    const text = (name: string, label: string, value: string, placeholder: string) =>
      h('label', { class: 'field version', for: `${key}-${name}` }, h('span', null, label), input(name, { type: 'text', value, placeholder, maxlength: '40', inputmode: 'decimal', pattern: '[0-9]+(\\.[0-9]+)*' }));
    // One control per requirement of the catalogue, by its kind.
    const controls = REQUIREMENTS.map((requirement) => {
      const current = policy ? policy[requirement.field] : requirementDefault(requirement.kind);
      switch (requirement.kind) {
        case 'flag':
          return check(requirement.field, requirement.label.replace(/^Require /, '').replace(/^./, (first) => first.toUpperCase()));
        case 'max':
          return h(
            'label',
            { class: 'field patch', for: `${key}-${requirement.field}` },
            h('span', null, requirement.label),
            input(requirement.field, { type: 'number', min: '0', max: '100000', step: '1', inputmode: 'numeric', placeholder: 'no limit', value: typeof current === 'number' ? String(current) : '' }),
          );
        case 'min_version':
          return text(requirement.field, requirement.label, typeof current === 'string' ? current : '', 'no minimum');
        case 'min_version_by_platform': {
          const minimums = (current ?? {}) as Partial<Record<Platform, string>>;
          return h('fieldset', { class: 'minimums' }, h('legend', null, requirement.label), PLATFORMS.map((platform) => text(`${requirement.field}.${platform}`, platform, minimums[platform] ?? '', 'no minimum')));
        }
      }
    });
    const form = h(
      'form',
      { class: 'policy-card', 'data-policy': policy?.id ?? 'new', 'aria-label': `Policy ${policy?.name ?? '(new)'}` },
      h('div', { class: 'policy-row' }, h('label', { class: 'field grow', for: `${key}-name` }, h('span', null, 'Name'), input('name', { type: 'text', value: policy?.name ?? 'baseline', required: true, maxlength: '200' })), check('enabled', 'Enabled')),
      h('fieldset', { class: 'requirements' }, h('legend', null, 'Require'), controls),
      h(
        'div',
        { class: 'policy-actions' },
        h('button', { type: 'submit', class: 'button primary' }, policy ? 'Save' : 'Create policy'),
        policy ? h('button', { type: 'button', class: 'button subtle', onclick: () => void deletePolicy(policy) }, 'Delete…') : h('button', { type: 'button', class: 'button subtle', onclick: () => (form.remove(), (dirty = false)) }, 'Discard'),
      ),
    );
    form.addEventListener('input', () => {
      dirty = true;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void savePolicy(policy, form);
    });
    return form;
  }

  function fieldsOf(form: HTMLFormElement): PolicyFields | string {
    const value = (name: string) => form.elements.namedItem(name) as HTMLInputElement | null;
    const name = value('name')?.value.trim() ?? '';
    if (name === '') return 'Give the policy a name.';
    const fields: Record<string, unknown> = { name, enabled: value('enabled')?.checked ?? true };
    for (const requirement of REQUIREMENTS) {
      switch (requirement.kind) {
        case 'flag':
          fields[requirement.field] = value(requirement.field)?.checked ?? false;
          break;
        case 'max': {
          const raw = value(requirement.field)?.value.trim() ?? '';
          const limit = raw === '' ? null : Number(raw);
          if (limit !== null && (!Number.isInteger(limit) || limit < 0 || limit > 100_000)) return `${requirement.label}: a whole number of days (0 to 100000), or empty for no limit.`;
          fields[requirement.field] = limit;
          break;
        }
        case 'min_version': {
          const raw = value(requirement.field)?.value.trim() ?? '';
          if (raw !== '' && !isVersion(raw)) return `${requirement.label}: a dotted version such as 0.2.0, or empty for none.`;
          fields[requirement.field] = raw === '' ? null : raw;
          break;
        }
        case 'min_version_by_platform': {
          const minimums: Partial<Record<Platform, string>> = {};
          for (const platform of PLATFORMS) {
            const raw = value(`${requirement.field}.${platform}`)?.value.trim() ?? '';
            if (raw !== '' && !isVersion(raw)) return `${requirement.label} (${platform}): a dotted version such as 14.4 or 10.0.22631, or empty for none.`;
            if (raw !== '') minimums[platform] = raw;
          }
          fields[requirement.field] = Object.keys(minimums).length > 0 ? minimums : null;
          break;
        }
      }
    }
    return fields as PolicyFields;
  }

  /** In enforce mode, shows what `proposed` would do and asks; elsewhere just asks nothing. */
  async function confirmInEnforce(title: string, proposed: PolicyFields[], confirmLabel: string): Promise<boolean> {
    if (settings?.posture_enforcement !== 'enforce') return true;
    const preview = await impact({ policies: proposed });
    return confirmDialog({ title, body: [h('p', null, 'The org is in enforce mode: every device is re-evaluated against the new policies at once.'), impactView(preview)], confirmLabel, danger: preview.would_quarantine.length > 0 });
  }

  async function savePolicy(policy: PolicyRow | null, form: HTMLFormElement): Promise<void> {
    const fields = fieldsOf(form);
    if (typeof fields === 'string') {
      replace(feedback, h('p', { class: 'error', role: 'alert' }, fields));
      return;
    }
    try {
      const proposed = policy ? policies.map((existing) => (existing.id === policy.id ? fields : existing)) : [...policies, fields];
      if (!(await confirmInEnforce(policy ? `Save “${fields.name}”?` : `Create “${fields.name}”?`, proposed.map(policyFields), policy ? 'Save and apply' : 'Create and apply'))) return;
      if (policy) await api('PATCH', '/api/db/posture_policies', { _filters: { id: policy.id }, ...fields });
      else await api('POST', '/api/db/posture_policies', fields);
      dirty = false;
      replace(feedback, h('p', { class: 'ok' }, policy ? `Saved “${fields.name}”.` : `Created “${fields.name}”.`));
      announce('Policy saved');
      await load();
    } catch (error) {
      showError(error);
    }
  }

  async function deletePolicy(policy: PolicyRow): Promise<void> {
    try {
      const remaining = policies.filter((existing) => existing.id !== policy.id).map(policyFields);
      const enforce = settings?.posture_enforcement === 'enforce';
      const ok = enforce
        ? await confirmInEnforce(`Delete “${policy.name}”?`, remaining, 'Delete and apply')
        : await confirmDialog({ title: `Delete “${policy.name}”?`, body: h('p', null, 'Its requirements stop applying.'), confirmLabel: 'Delete', danger: true });
      if (!ok) return;
      await api('DELETE', `/api/db/posture_policies?id=eq.${encodeURIComponent(policy.id)}`);
      dirty = false;
      replace(feedback, h('p', { class: 'ok' }, `Deleted “${policy.name}”.`));
      await load();
    } catch (error) {
      showError(error);
    }
  }

  function showError(error: unknown): void {
    const message = error instanceof ApiError ? error.message : String(error);
    replace(feedback, h('p', { class: 'error', role: 'alert' }, `That did not work: ${message}`));
  }

  const unsubscribe = context.live.subscribe((event) => {
    if (event.type === 'resync') void load();
    else if (event.table === 'audit_log' && (event.data.event === 'org.settings_updated' || event.data.event === 'posture.policy_changed')) void load();
  });
  void load();
  return unsubscribe;
};

function policyFields(policy: PolicyFields): PolicyFields {
  const fields: Record<string, unknown> = { name: policy.name, enabled: policy.enabled };
  for (const requirement of REQUIREMENTS) fields[requirement.field] = policy[requirement.field];
  return fields as PolicyFields;
}

function impactList(machines: readonly ImpactedMachine[], withViolations: boolean): HTMLElement {
  return h(
    'ul',
    { class: 'impact-list' },
    machines.slice(0, 50).map((machine) => h('li', { 'data-machine': machine.machine_id }, h('a', { href: `#/devices/${encodeURIComponent(machine.machine_id)}` }, machine.hostname), withViolations ? violationChips(machine.findings ?? machine.violations) : null)),
    machines.length > 50 ? h('li', { class: 'muted' }, `and ${machines.length - 50} more`) : null,
  );
}

/** What a preview says, in words, biggest consequence first. */
export function impactView(preview: ImpactPreview): HTMLElement {
  const n = preview.would_quarantine.length;
  return h(
    'div',
    { class: 'impact', 'data-would-quarantine': String(n) },
    preview.mode !== 'enforce'
      ? h('p', { class: 'impact-headline' }, `In ${preview.mode} mode nobody is quarantined or released.`)
      : h('p', { class: `impact-headline ${n > 0 ? 'bad' : 'good'}` }, n === 0 ? 'No online device would be quarantined.' : `${n} online device${n === 1 ? '' : 's'} would be quarantined now:`),
    n > 0 ? impactList(preview.would_quarantine, true) : null,
    preview.would_release.length > 0 ? [h('p', null, `${preview.would_release.length} quarantined device${preview.would_release.length === 1 ? '' : 's'} would be released:`), impactList(preview.would_release, false)] : null,
    preview.offline_failing.length > 0 ? [h('p', null, `${preview.offline_failing.length} offline device${preview.offline_failing.length === 1 ? '' : 's'} fail${preview.offline_failing.length === 1 ? 's' : ''} and would be quarantined on coming back:`), impactList(preview.offline_failing, true)] : null,
    preview.exempt_failing.length > 0 ? h('p', { class: 'muted' }, `${preview.exempt_failing.length} exempt device${preview.exempt_failing.length === 1 ? '' : 's'} fail${preview.exempt_failing.length === 1 ? 's' : ''} but stay${preview.exempt_failing.length === 1 ? 's' : ''} exempt.`) : null,
    h('p', { class: 'muted' }, `Evaluated ${preview.evaluated} device${preview.evaluated === 1 ? '' : 's'} with a report.`, preview.without_report > 0 ? ` ${withoutReport(preview.without_report)}` : ''),
  );
}

function withoutReport(count: number): string {
  return count === 1
    ? '1 device without a report yet is not quarantined by the change, but enforce denies its access checks until it reports.'
    : `${count} devices without a report yet are not quarantined by the change, but enforce denies their access checks until they report.`;
}
