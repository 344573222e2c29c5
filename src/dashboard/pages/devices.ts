/**
 * Devices: every machine of the org with its status, compliance, violations, risk, last
 * seen and OS; filtered by status and compliance and searched by hostname, OS, tag or id.
 *
 * Live: realtime events update rows in place. Rows keep their place (sorted by hostname,
 * never re-sorted on a status change) and every cell has a reserved size, so an update
 * never moves the rest of the page; a changed row flashes briefly.
 */
import { rows } from '../api.ts';
import { announce, h, replace } from '../dom.ts';
import type { Child } from '../dom.ts';
import { graceDeadline, searchText } from '../format.ts';
import type { Machine, PostureReportRow } from '../types.ts';
import type { Compliance, Page } from './common.ts';
import { complianceBadge, complianceOf, countdownElement, emptyState, errorState, pageHeader, refreshTimes, riskMeter, statusBadge, timeCell, violationChips } from './common.ts';

type ReportSummary = Pick<PostureReportRow, 'machine_id' | 'compliant' | 'findings' | 'mode' | 'reported_at'>;

const MAX_VISIBLE = 500;

/** Filters survive navigation to a device and back. */
const filters = { q: '', status: 'all', compliance: 'all' };

export const devicesPage: Page = (main, _params, context) => {
  const machines = new Map<string, Machine>();
  const reports = new Map<string, ReportSummary>();
  const rowsById = new Map<string, HTMLTableRowElement>();
  let loaded = false;

  const search = h('input', { type: 'search', id: 'device-search', placeholder: 'hostname, OS, tag or id', autocomplete: 'off', value: filters.q });
  const statusSelect = h('select', { id: 'device-status' }, option('all', 'All statuses'), option('online', 'Online'), option('offline', 'Offline'), option('quarantined', 'Quarantined'));
  const complianceSelect = h('select', { id: 'device-compliance' }, option('all', 'Any compliance'), option('compliant', 'Compliant'), option('non_compliant', 'Non-compliant'), option('no_report', 'No report'), option('not_evaluated', 'Not evaluated'));
  statusSelect.value = filters.status;
  complianceSelect.value = filters.compliance;
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' }, 'Loading devices…');
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'devices', 'aria-label': 'Devices' },
    h('colgroup', null, ['device', 'status', 'compliance', 'violations', 'risk', 'seen', 'os'].map((name) => h('col', { class: `col-${name}` }))),
    h('thead', null, h('tr', null, ['Device', 'Status', 'Compliance', 'Violations', 'Risk', 'Last seen', 'OS'].map((label) => h('th', { scope: 'col' }, label)))),
    tbody,
  );
  const wrap = h('div', { class: 'table-wrap' }, table);
  const note = h('div', { class: 'table-note' });

  replace(
    main,
    pageHeader('Devices'),
    h(
      'form',
      { class: 'toolbar', role: 'search', onsubmit: (event: Event) => event.preventDefault() },
      h('label', { class: 'field grow' }, h('span', null, 'Search'), search),
      h('label', { class: 'field' }, h('span', null, 'Status'), statusSelect),
      h('label', { class: 'field' }, h('span', null, 'Compliance'), complianceSelect),
    ),
    summary,
    wrap,
    note,
  );

  search.addEventListener('input', () => {
    filters.q = search.value;
    applyFilters();
  });
  statusSelect.addEventListener('change', () => {
    filters.status = statusSelect.value;
    applyFilters();
  });
  complianceSelect.addEventListener('change', () => {
    filters.compliance = complianceSelect.value;
    applyFilters();
  });

  function compliance(id: string): Compliance {
    return complianceOf(reports.get(id));
  }

  function fillRow(row: HTMLTableRowElement, machine: Machine): void {
    const report = reports.get(machine.id);
    row.dataset.status = machine.status;
    row.dataset.postureState = machine.posture_state;
    row.dataset.compliance = compliance(machine.id);
    row.classList.toggle('is-quarantined', machine.status === 'quarantined');
    replace(
      row,
      h(
        'td',
        { class: 'cell-device', 'data-label': 'Device' },
        h('a', { href: `#/devices/${encodeURIComponent(machine.id)}`, class: 'device-link' }, machine.hostname),
        machine.tags.length > 0 ? h('span', { class: 'tags' }, machine.tags.join(' · ')) : null,
      ),
      h(
        'td',
        { class: 'cell-status', 'data-label': 'Status' },
        statusBadge(machine),
        // Always one line under the badge, so a status change never changes the row's height.
        h('span', { class: `sub${isExempt(machine) ? ' exempt' : ''}${machine.posture_state === 'grace' && machine.status !== 'quarantined' ? ' grace' : ''}` }, statusNote(machine, report)),
      ),
      h('td', { class: 'cell-compliance', 'data-label': 'Compliance' }, complianceBadge(compliance(machine.id))),
      h('td', { class: 'cell-violations', 'data-label': 'Violations' }, violationChips(report && report.mode !== 'disabled' ? report.findings : [])),
      h('td', { class: 'cell-risk', 'data-label': 'Risk' }, riskMeter(machine.risk_score)),
      h('td', { class: 'cell-seen', 'data-label': 'Last seen' }, timeCell(machine.last_seen)),
      h('td', { class: 'cell-os', 'data-label': 'OS' }, h('span', null, machine.os ?? 'unknown'), machine.os_version ? h('span', { class: 'sub' }, machine.os_version) : null),
    );
  }

  function matches(machine: Machine): boolean {
    if (filters.status !== 'all' && machine.status !== filters.status) return false;
    if (filters.compliance !== 'all' && compliance(machine.id) !== filters.compliance) return false;
    const q = filters.q.trim().toLowerCase();
    return q === '' || q.split(/\s+/).every((word) => searchText(machine).includes(word));
  }

  function applyFilters(): void {
    let shown = 0;
    let matching = 0;
    for (const [id, row] of rowsById) {
      const machine = machines.get(id) as Machine;
      const match = matches(machine);
      if (match) matching += 1;
      const visible = match && shown < MAX_VISIBLE;
      if (visible) shown += 1;
      row.hidden = !visible;
    }
    updateSummary();
    if (!loaded) return;
    if (machines.size === 0) {
      wrap.hidden = true;
      replace(
        note,
        emptyState(
          'No devices enrolled yet',
          'Create an auth key (POST /api/db/auth_keys), then on each device run ',
          h('code', null, 'ztna up --server URL --auth-key KEY'),
          '. Devices appear here as they enroll.',
        ),
      );
    } else if (matching === 0) {
      wrap.hidden = true;
      replace(note, emptyState('No devices match these filters', h('button', { type: 'button', class: 'button', onclick: clearFilters }, 'Clear filters')));
    } else {
      wrap.hidden = false;
      replace(note, matching > shown ? h('p', { class: 'muted' }, `Showing ${shown} of ${matching} matching devices: refine the search to see the others.`) : null);
    }
  }

  function clearFilters(): void {
    filters.q = '';
    filters.status = 'all';
    filters.compliance = 'all';
    search.value = '';
    statusSelect.value = 'all';
    complianceSelect.value = 'all';
    applyFilters();
    search.focus();
  }

  function updateSummary(): void {
    if (!loaded) return;
    const counts = { online: 0, offline: 0, quarantined: 0, nonCompliant: 0, grace: 0 };
    for (const machine of machines.values()) {
      counts[machine.status] += 1;
      if (compliance(machine.id) === 'non_compliant') counts.nonCompliant += 1;
      if (machine.posture_state === 'grace' && machine.status !== 'quarantined') counts.grace += 1;
    }
    summary.textContent = `${machines.size} device${machines.size === 1 ? '' : 's'} · ${counts.online} online · ${counts.offline} offline · ${counts.quarantined} quarantined · ${counts.nonCompliant} non-compliant${counts.grace > 0 ? ` · ${counts.grace} in grace` : ''}`;
  }

  /** Adds a row in hostname order (`atEnd` when the caller adds rows already in that order). */
  function insertRow(machine: Machine, atEnd = false): HTMLTableRowElement {
    const row = h('tr', { 'data-id': machine.id });
    fillRow(row, machine);
    let before: HTMLTableRowElement | null = null;
    if (!atEnd) {
      for (const other of tbody.rows) {
        if ((machines.get(other.dataset.id ?? '')?.hostname ?? '').localeCompare(machine.hostname) > 0) {
          before = other;
          break;
        }
      }
    }
    rowsById.set(machine.id, row);
    tbody.insertBefore(row, before);
    return row;
  }

  function flash(row: HTMLTableRowElement): void {
    row.classList.remove('flash');
    void row.offsetWidth; // restart the animation
    row.classList.add('flash');
  }
  // The highlight is one animation per cell; the class goes when the last cell's ends.
  tbody.addEventListener('animationend', (event) => {
    const row = (event.target as Element).closest('tr');
    if (row && event.target === row.lastElementChild) row.classList.remove('flash');
  });

  async function load(): Promise<void> {
    try {
      const [machineRows, reportRows] = await Promise.all([
        rows<Machine>('machines', { order: 'hostname.asc' }),
        rows<ReportSummary>('posture_reports', { select: 'machine_id,compliant,findings,mode,reported_at' }),
      ]);
      machines.clear();
      reports.clear();
      for (const report of reportRows) reports.set(report.machine_id, report);
      const fresh = new Set<string>();
      for (const machine of machineRows) {
        machines.set(machine.id, machine);
        fresh.add(machine.id);
      }
      for (const [id, row] of rowsById) {
        if (!fresh.has(id)) {
          row.remove();
          rowsById.delete(id);
        }
      }
      const initial = rowsById.size === 0;
      for (const machine of machineRows) {
        const row = rowsById.get(machine.id);
        if (row) fillRow(row, machine);
        else insertRow(machine, initial);
      }
      loaded = true;
      applyFilters();
    } catch (error) {
      if (!loaded) replace(note, errorState(error));
    }
  }

  async function refetchMachine(id: string): Promise<void> {
    const [machine] = await rows<Machine>('machines', { id: `eq.${id}` });
    if (machine) upsertMachine(machine, true);
  }

  // A re-judgement (a policy change, grace ending, an exemption beginning or ending) rewrites
  // the stored verdict without a posture_reports event: when a machine's posture state or
  // status changes, its report is fetched again (batched: a policy change moves many at once).
  const staleReports = new Set<string>();
  let reportTimer: number | undefined;
  function refreshReportSoon(id: string): void {
    staleReports.add(id);
    window.clearTimeout(reportTimer);
    reportTimer = window.setTimeout(() => void refreshReports(), 150);
  }

  async function refreshReports(): Promise<void> {
    const ids = [...staleReports];
    staleReports.clear();
    if (ids.length === 0) return;
    if (ids.length > 200) return load();
    const fresh = await rows<ReportSummary>('posture_reports', { machine_id: `in.(${ids.join(',')})`, select: 'machine_id,compliant,findings,mode,reported_at' }).catch(() => null);
    if (!fresh) return;
    for (const report of fresh) {
      reports.set(report.machine_id, report);
      const machine = machines.get(report.machine_id);
      const row = rowsById.get(report.machine_id);
      if (machine && row) fillRow(row, machine);
    }
    applyFilters();
  }

  function upsertMachine(machine: Machine, changed: boolean): void {
    const before = machines.get(machine.id);
    machines.set(machine.id, machine);
    if (before && (before.posture_state !== machine.posture_state || before.grace_until !== machine.grace_until || before.status !== machine.status)) refreshReportSoon(machine.id);
    let row = rowsById.get(machine.id);
    if (row) fillRow(row, machine);
    else row = insertRow(machine);
    if (changed) flash(row);
    if (before && before.status !== machine.status) announce(`${machine.hostname} is now ${machine.status}`);
    applyFilters();
  }

  const unsubscribe = context.live.subscribe((event) => {
    if (event.type === 'resync') {
      void load();
      return;
    }
    if (!loaded) return;
    const data = event.data as Record<string, unknown>;
    if (event.table === 'machines') {
      const id = String(data.id);
      if (event.type === 'DELETE') {
        machines.delete(id);
        rowsById.get(id)?.remove();
        rowsById.delete(id);
        applyFilters();
      } else if (data.truncated === true || typeof data.hostname !== 'string') {
        void refetchMachine(id);
      } else {
        upsertMachine({ ...(machines.get(id) ?? {}), ...(data as unknown as Machine) }, true);
      }
    } else if (event.table === 'posture_reports') {
      const machineId = String(data.machine_id);
      if (typeof data.compliant !== 'boolean') {
        void load();
        return;
      }
      reports.set(machineId, data as unknown as ReportSummary);
      const machine = machines.get(machineId);
      if (machine) upsertMachine(machine, false);
    } else if (event.table === 'audit_log' && typeof data.machine_id === 'string' && String(data.event).startsWith('machine.manual_')) {
      // A hold on an already quarantined machine changes only its reason: no machines event.
      void refetchMachine(data.machine_id);
    }
  });

  void load();
  const clock = window.setInterval(() => refreshTimes(tbody), 15_000);
  // last_seen moves with heartbeats, which are not realtime events: refresh it quietly.
  const poll = window.setInterval(() => void load(), 60_000);
  return () => {
    unsubscribe();
    window.clearInterval(clock);
    window.clearInterval(poll);
    window.clearTimeout(reportTimer);
  };
};

/** Exempt from what fails now: the legacy flag, or exemptions covering every current violation. */
function isExempt(machine: Machine): boolean {
  return machine.posture_exempt || machine.posture_state === 'exempt';
}

function statusNote(machine: Machine, report: ReportSummary | undefined): Child {
  // SPEC 7.3: failing inside a grace period — it keeps its access until the countdown ends.
  const deadline = machine.status === 'quarantined' ? null : graceDeadline(machine.posture_state, machine.grace_until, report && report.mode !== 'disabled' ? report.findings : [], Date.now());
  const parts: Child[] = [
    machine.status === 'quarantined' && machine.quarantine_reason ? `reason: ${machine.quarantine_reason}` : null,
    deadline ? countdownElement(deadline, 'blocks-in') : null,
    isExempt(machine) ? 'exempt' : null,
    // SPEC 7.1: no current verdict — in enforce mode no peers and no access until it reports.
    machine.posture_state === 'pending' && machine.status !== 'quarantined' ? 'pending: no verdict' : null,
  ].filter((part) => part !== null);
  return parts.length > 0 ? parts.flatMap((part, index) => (index === 0 ? [part] : [' · ', part])) : '\u00a0';
}

function option(value: string, label: string): HTMLOptionElement {
  return h('option', { value }, label);
}
