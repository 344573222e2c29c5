/**
 * Posture policy & mode: switch disabled / monitor / enforce, and edit the org's
 * policies — their requirements, which devices they apply to (platforms, tags) and their
 * grace period (SPEC 7.3). Before switching to enforce — and before saving or deleting a
 * policy while in enforce — the page shows the impact (`POST /api/posture/impact`), the
 * whole of it: who is blocked now, who at the end of a grace period (and when), who is
 * already quarantined and stays so, who is released, who is exempt (and until when), and
 * who has no verdict — computed by the server from the stored reports without changing
 * anything. Nothing is applied until the admin confirms.
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
import type { DurationUnit } from '../format.ts';
import { MAX_GRACE_S, durationText, parseDuration, parseTags, platformName, requirementText, scopeText, splitDuration } from '../format.ts';
import type { AclRuleRow, ImpactPreview, ImpactedMachine, Mode, NoVerdictMachine, OrgSettingsRow, PolicyRow } from '../types.ts';
import type { Page } from './common.ts';
import { countdownElement, emptyState, errorState, pageHeader, violationChips } from './common.ts';

const MODES: ReadonlyArray<{ mode: Mode; title: string; text: string }> = [
  { mode: 'disabled', title: 'Disabled', text: 'Reports are stored but not evaluated. Nobody is quarantined.' },
  { mode: 'monitor', title: 'Monitor', text: 'Reports are evaluated and violations recorded; nobody is quarantined or released. Measure who would break.' },
  { mode: 'enforce', title: 'Enforce', text: 'Failing online devices are quarantined and compliant ones released. Every change re-evaluates all devices at once.' },
];

/** What the form edits: name, enabled, every requirement of the catalogue, targeting and grace. */
type PolicyFields = Pick<PolicyRow, 'name' | 'enabled' | 'platforms' | 'tags' | 'grace_period_s'> & PolicyRequirements;

/** A field the form could not read: what to say, and which control to focus. */
interface FormProblem {
  message: string;
  field: string;
}

export const policyPage: Page = (main, _params, context) => {
  let settings: OrgSettingsRow | null = null;
  let policies: PolicyRow[] = [];
  /** Tags devices carry now: a hint beside the policies' tag fields. */
  let tagsInUse: string[] = [];
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
      const [settingsRows, policyRows, ruleRows, machineTags] = await Promise.all([
        rows<OrgSettingsRow>('org_settings'),
        rows<PolicyRow>('posture_policies', { order: 'created_at.asc' }),
        rows<AclRuleRow>('acl_rules', { order: 'priority.asc' }),
        rows<{ tags: string[] | null }>('machines', { select: 'tags' }).catch(() => []),
      ]);
      const first = settings === null;
      settings = settingsRows[0] ?? null;
      policies = policyRows;
      tagsInUse = [...new Set(machineTags.flatMap((machine) => machine.tags ?? []))].sort();
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
            h('thead', null, h('tr', null, ['Priority', 'Name', 'Action', 'From', 'To', 'Ports', 'Source posture'].map((label) => h('th', { scope: 'col' }, label)))),
            h(
              'tbody',
              null,
              rules.map((rule) =>
                h(
                  'tr',
                  { 'data-rule': rule.id },
                  h('td', null, String(rule.priority)),
                  h('td', null, rule.name),
                  h('td', null, rule.action),
                  h('td', null, selectors(rule.src)),
                  h('td', null, selectors(rule.dst)),
                  h('td', null, h('code', null, rule.ports)),
                  // A rule with src_posture matches only a source that satisfies that policy (enabled or not).
                  h('td', { class: 'rule-posture', title: rule.src_posture ? `Matches only when the source satisfies the policy "${rule.src_posture}"` : 'No posture condition' }, rule.src_posture ? `satisfies ${rule.src_posture}` : '—'),
                ),
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
    // What every device is held to: the enabled policies that target every device.
    const everyone = policies.filter((policy) => policy.enabled && policy.platforms === null && policy.tags === null);
    const targeted = policies.filter((policy) => policy.enabled && !(policy.platforms === null && policy.tags === null)).length;
    const effective = combinePolicies(everyone.map((policy) => ({ ...policy })));
    const requirements = REQUIREMENTS.map((requirement) => {
      const text = requirementText(requirement, effective[requirement.field]);
      return text === null ? null : `${requirement.label.replace(/^Require /, '')}${text === 'required' ? '' : ` ${text}`}`;
    }).filter((part): part is string => part !== null);
    replace(
      policySection,
      h('h2', { id: 'policies-title' }, 'Policies'),
      h(
        'p',
        null,
        'The enabled policies that apply to a device combine for it: a requirement holds if any of them requires it, the smallest patch age and the largest minimum version win, and the shortest grace period. An unknown signal fails a requirement.',
      ),
      h(
        'p',
        { class: 'effective' },
        h('strong', null, 'In effect for every device: '),
        requirements.length > 0 ? requirements.join(', ') : 'nothing is required',
        targeted > 0 ? ` — plus ${targeted} targeted polic${targeted === 1 ? 'y' : 'ies'} for some devices (below).` : '',
      ),
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
    // SPEC 7.3 targeting: every platform and no tags = every device (stored as null).
    const platforms = policy?.platforms ?? null;
    const platformChecks = PLATFORMS.map((platform) =>
      h('label', { class: 'check' }, input(`platforms.${platform}`, { type: 'checkbox', checked: platforms === null || platforms.includes(platform) }), h('span', null, platformName(platform))),
    );
    const tagHint = `${key}-tags-hint`;
    const grace = splitDuration(policy?.grace_period_s ?? 0);
    const graceUnit = h(
      'select',
      { id: `${key}-grace_unit`, name: 'grace_unit', 'aria-label': 'Grace period unit' },
      (['minutes', 'hours', 'days'] as const).map((unit) => h('option', { value: unit, selected: unit === grace.unit }, unit)),
    );
    const error = h('p', { class: 'form-error', role: 'alert', id: `${key}-error` });
    const form = h(
      'form',
      { class: 'policy-card', 'data-policy': policy?.id ?? 'new', 'aria-label': `Policy ${policy?.name ?? '(new)'}`, novalidate: true },
      h('div', { class: 'policy-row' }, h('label', { class: 'field grow', for: `${key}-name` }, h('span', null, 'Name'), input('name', { type: 'text', value: policy?.name ?? 'baseline', required: true, maxlength: '200' })), check('enabled', 'Enabled')),
      policy ? h('p', { class: 'policy-scope' }, `Applies to ${scopeText(policy.platforms, policy.tags)} · grace: ${durationText(policy.grace_period_s)}`) : null,
      h('fieldset', { class: 'requirements' }, h('legend', null, 'Require'), controls),
      h(
        'fieldset',
        { class: 'targeting' },
        h('legend', null, 'Applies to'),
        h('div', { class: 'platforms', role: 'group', 'aria-label': 'Platforms' }, platformChecks),
        h(
          'label',
          { class: 'field grow', for: `${key}-tags` },
          h('span', null, 'Only devices tagged (any of)'),
          input('tags', { type: 'text', value: (policy?.tags ?? []).join(', '), placeholder: 'all devices', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': tagHint }),
        ),
        h(
          'p',
          { class: 'hint', id: tagHint },
          'Every platform checked and no tags: every device. Tags: separated by commas or spaces.',
          tagsInUse.length > 0 ? ` Tags in use: ${tagsInUse.join(', ')}.` : ' No device carries a tag yet.',
        ),
      ),
      h(
        'fieldset',
        { class: 'grace' },
        h('legend', null, 'Grace period'),
        h(
          'label',
          { class: 'field', for: `${key}-grace_amount` },
          h('span', null, 'A new violation blocks after'),
          h('span', { class: 'duration' }, input('grace_amount', { type: 'number', min: '0', step: 'any', inputmode: 'decimal', value: String(grace.amount), 'aria-describedby': `${key}-grace-hint` }), graceUnit),
        ),
        h('p', { class: 'hint', id: `${key}-grace-hint` }, '0: a violation blocks at once. Otherwise, in enforce mode, a device that starts failing keeps its access this long (at most 365 days), then is quarantined unless fixed.'),
      ),
      error,
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

  function fieldsOf(form: HTMLFormElement): PolicyFields | FormProblem {
    const value = (name: string) => form.elements.namedItem(name) as HTMLInputElement | null;
    const problem = (field: string, message: string): FormProblem => ({ field, message });
    const name = value('name')?.value.trim() ?? '';
    if (name === '') return problem('name', 'Name: give the policy a name.');
    const chosen = PLATFORMS.filter((platform) => value(`platforms.${platform}`)?.checked ?? true);
    if (chosen.length === 0) return problem(`platforms.${PLATFORMS[0]}`, 'Applies to: check at least one platform (all of them: every device).');
    const tags = parseTags(value('tags')?.value ?? '');
    if ('error' in tags) return problem('tags', tags.error);
    const grace = parseDuration(value('grace_amount')?.value ?? '0', ((form.elements.namedItem('grace_unit') as HTMLSelectElement | null)?.value ?? 'days') as DurationUnit, 'Grace period', { min: 0, max: MAX_GRACE_S });
    if ('error' in grace) return problem('grace_amount', grace.error);
    const fields: Record<string, unknown> = {
      name,
      enabled: value('enabled')?.checked ?? true,
      platforms: chosen.length === PLATFORMS.length ? null : chosen,
      tags: tags.tags,
      grace_period_s: grace.seconds,
    };
    for (const requirement of REQUIREMENTS) {
      switch (requirement.kind) {
        case 'flag':
          fields[requirement.field] = value(requirement.field)?.checked ?? false;
          break;
        case 'max': {
          const raw = value(requirement.field)?.value.trim() ?? '';
          const limit = raw === '' ? null : Number(raw);
          if (limit !== null && (!Number.isInteger(limit) || limit < 0 || limit > 100_000)) return problem(requirement.field, `${requirement.label}: a whole number of days (0 to 100000), or empty for no limit.`);
          fields[requirement.field] = limit;
          break;
        }
        case 'min_version': {
          const raw = value(requirement.field)?.value.trim() ?? '';
          if (raw !== '' && !isVersion(raw)) return problem(requirement.field, `${requirement.label}: a dotted version such as 0.2.0, or empty for none.`);
          fields[requirement.field] = raw === '' ? null : raw;
          break;
        }
        case 'min_version_by_platform': {
          const minimums: Partial<Record<Platform, string>> = {};
          for (const platform of PLATFORMS) {
            const raw = value(`${requirement.field}.${platform}`)?.value.trim() ?? '';
            if (raw !== '' && !isVersion(raw)) return problem(`${requirement.field}.${platform}`, `${requirement.label} (${platform}): a dotted version such as 14.4 or 10.0.22631, or empty for none.`);
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
    const error = form.querySelector('.form-error');
    for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
    if (error) error.textContent = '';
    const fields = fieldsOf(form);
    if ('message' in fields) {
      // Said beside the form (its alert is read out) and the control in question focused.
      if (error) error.textContent = fields.message;
      const control = form.elements.namedItem(fields.field);
      if (control instanceof HTMLElement) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-errormessage', error?.id ?? '');
        control.focus();
      }
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
    } catch (failure) {
      const message = failure instanceof ApiError ? failure.message : String(failure);
      if (error) error.textContent = `That did not work: ${message}`;
      else showError(failure);
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
  // Targeting and grace too: a preview without them would judge every policy as org-wide and immediate.
  const fields: Record<string, unknown> = { name: policy.name, enabled: policy.enabled, platforms: policy.platforms, tags: policy.tags, grace_period_s: policy.grace_period_s };
  for (const requirement of REQUIREMENTS) fields[requirement.field] = policy[requirement.field];
  return fields as PolicyFields;
}

const devices = (count: number) => `${count} device${count === 1 ? '' : 's'}`;
/** "fails" / "fail", "is" / "are", … : the verb agreeing with a count. */
const verb = (count: number, one: string, many: string) => (count === 1 ? one : many);

function impactList<M extends { machine_id: string; hostname: string }>(machines: readonly M[], extra: (machine: M) => Child): HTMLElement {
  return h(
    'ul',
    { class: 'impact-list' },
    machines.slice(0, 50).map((machine) => h('li', { 'data-machine': machine.machine_id }, h('a', { href: `#/devices/${encodeURIComponent(machine.machine_id)}` }, machine.hostname), extra(machine))),
    machines.length > 50 ? h('li', { class: 'muted' }, `and ${machines.length - 50} more`) : null,
  );
}

/** One group of devices in a preview: what happens to them, then who they are. */
function impactSection(key: keyof ImpactPreview, intro: Child, list: HTMLElement): HTMLElement {
  return h('div', { class: 'impact-section', 'data-section': key }, intro === null ? null : h('p', null, intro), list);
}

const chips = (machine: ImpactedMachine) => violationChips(machine.findings ?? machine.violations);

/**
 * What a preview says, in words, biggest consequence first — and all of it: who is blocked
 * now, who at the end of a grace period (and when), who is already quarantined and stays
 * so, who is released, who is exempt (and until when), who has no verdict. It never says
 * that nobody would be quarantined while failing devices are blocked.
 */
export function impactView(preview: ImpactPreview): HTMLElement {
  const blockedNow = preview.would_quarantine;
  const grace = preview.would_block_after_grace;
  const still = preview.still_quarantined;
  const enforce = preview.mode === 'enforce';
  const noReport = preview.no_verdict.filter((machine) => machine.why === 'no_report');
  const expired = preview.no_verdict.filter((machine) => machine.why === 'expired');
  let headline: HTMLElement;
  if (!enforce) {
    headline = h('p', { class: 'impact-headline' }, `In ${preview.mode} mode nobody is quarantined or released.`);
  } else if (blockedNow.length > 0) {
    headline = h('p', { class: 'impact-headline bad' }, `${blockedNow.length} online device${blockedNow.length === 1 ? '' : 's'} would be quarantined now:`);
  } else if (still.length > 0) {
    // Already blocked first: "nobody" would hide them.
    headline = h(
      'p',
      { class: 'impact-headline bad' },
      `${devices(still.length)} already quarantined and still failing ${verb(still.length, 'stays', 'stay')} blocked; no other online device would be quarantined now.`,
      grace.length > 0 ? ` ${devices(grace.length)} would be blocked when ${verb(grace.length, 'its', 'their')} grace period ends.` : '',
    );
  } else if (grace.length > 0) {
    headline = h('p', { class: 'impact-headline warn' }, `No online device would be quarantined now; ${devices(grace.length)} would be blocked when ${verb(grace.length, 'its', 'their')} grace period ends.`);
  } else {
    const whole = preview.offline_failing.length === 0 && preview.no_verdict.length === 0;
    headline = h('p', { class: `impact-headline ${whole ? 'good' : 'warn'}` }, 'No online device would be quarantined.');
  }
  return h(
    'div',
    {
      class: 'impact',
      'data-would-quarantine': String(blockedNow.length),
      'data-block-after-grace': String(grace.length),
      'data-still-quarantined': String(still.length),
      'data-no-verdict': String(preview.no_verdict.length),
      'data-exempt-failing': String(preview.exempt_failing.length),
    },
    headline,
    blockedNow.length > 0 ? impactSection('would_quarantine', null, impactList(blockedNow, chips)) : null,
    grace.length > 0
      ? impactSection(
          'would_block_after_grace',
          `${devices(grace.length)} ${verb(grace.length, 'fails', 'fail')} inside a grace period: blocked when it ends, unless fixed first:`,
          impactList(grace, (machine) => [chips(machine), machine.blocks_at ? h('span', { class: 'impact-when' }, countdownElement(machine.blocks_at, 'blocks-at')) : null]),
        )
      : null,
    still.length > 0
      ? impactSection(
          'still_quarantined',
          `${devices(still.length)} already quarantined ${verb(still.length, 'is', 'are')} still failing and ${verb(still.length, 'stays', 'stay')} blocked:`,
          impactList(still, (machine) => [chips(machine), h('span', { class: 'impact-when' }, machine.quarantine_reason === 'manual' ? 'held by an admin' : `quarantined (${machine.quarantine_reason ?? 'posture'})`)]),
        )
      : null,
    preview.offline_failing.length > 0
      ? impactSection(
          'offline_failing',
          `${devices(preview.offline_failing.length)} offline ${verb(preview.offline_failing.length, 'fails', 'fail')} and would be quarantined on coming back:`,
          impactList(preview.offline_failing, chips),
        )
      : null,
    preview.would_release.length > 0
      ? impactSection('would_release', `${preview.would_release.length} quarantined device${preview.would_release.length === 1 ? '' : 's'} would be released:`, impactList(preview.would_release, () => null))
      : null,
    preview.exempt_failing.length > 0
      ? impactSection(
          'exempt_failing',
          `${devices(preview.exempt_failing.length)} ${verb(preview.exempt_failing.length, 'fails', 'fail')} but ${verb(preview.exempt_failing.length, 'is', 'are')} exempt: not quarantined until the exemption ends:`,
          impactList(preview.exempt_failing, (machine) => [chips(machine), h('span', { class: 'impact-when' }, machine.exempt_until ? ['exempt ', countdownElement(machine.exempt_until, 'until')] : 'exempt, no expiry')]),
        )
      : null,
    noReport.length > 0 ? impactSection('no_verdict', withoutReport(noReport.length, enforce), impactList(noReport, noVerdictNote)) : null,
    expired.length > 0
      ? h(
          'div',
          { class: 'impact-section', 'data-section': 'no_verdict_expired' },
          h('p', null, `${devices(expired.length)} whose latest report expired ${verb(expired.length, 'has', 'have')} no verdict: ${enforce ? 'in enforce mode no access' : 'once enforce is on, no access'} until ${verb(expired.length, 'it reports', 'they report')} again:`),
          impactList(expired, noVerdictNote),
        )
      : null,
    h('p', { class: 'muted' }, `Evaluated ${preview.evaluated} device${preview.evaluated === 1 ? '' : 's'} with a report.`),
  );
}

function noVerdictNote(machine: NoVerdictMachine): Child {
  return h('span', { class: 'impact-when' }, machine.why === 'expired' ? 'report expired' : 'no report yet', machine.status === 'offline' ? ' · offline' : '');
}

function withoutReport(count: number, enforce: boolean): string {
  const access = enforce ? 'in enforce mode' : 'once enforce is on';
  return count === 1
    ? `1 device without a report yet is not quarantined by the change, but ${access} it has no access (no peers, every access check denied) until it reports:`
    : `${count} devices without a report yet are not quarantined by the change, but ${access} they have no access (no peers, every access check denied) until they report:`;
}
