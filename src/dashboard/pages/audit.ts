/**
 * Audit log: newest first, filtered by event (on the server) and by text (device,
 * actor, details), live: new events appear at the top as they happen.
 */
import { rows } from '../api.ts';
import { h, replace } from '../dom.ts';
import { AUDIT_EVENTS, auditSummary, eventLabel, eventTone } from '../format.ts';
import type { AuditRow, Machine } from '../types.ts';
import type { Page } from './common.ts';
import { emptyState, errorState, pageHeader, refreshTimes, timeCell } from './common.ts';

const PAGE_SIZE = 200;
const filters = { event: 'all', q: '' };

export const auditPage: Page = (main, _params, context) => {
  const hostnames = new Map<string, string>();
  let entries: AuditRow[] = [];
  let loaded = false;
  let exhausted = false;
  const eventSelect = h('select', { id: 'audit-event' }, h('option', { value: 'all' }, 'All events'), AUDIT_EVENTS.map((event) => h('option', { value: event, title: event }, eventLabel(event))));
  eventSelect.value = filters.event;
  const search = h('input', { type: 'search', id: 'audit-search', placeholder: 'device, actor or detail', autocomplete: 'off', value: filters.q });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'audit', 'aria-label': 'Audit events' },
    h('colgroup', null, ['time', 'event', 'device', 'actor', 'details'].map((name) => h('col', { class: `col-${name}` }))),
    h('thead', null, h('tr', null, ['Time', 'Event', 'Device', 'Actor', 'Details'].map((label) => h('th', { scope: 'col' }, label)))),
    tbody,
  );
  const wrap = h('div', { class: 'table-wrap' }, table);
  const note = h('div', { class: 'table-note' });
  tbody.addEventListener('animationend', (event) => {
    const row = (event.target as Element).closest('tr');
    if (row && event.target === row.lastElementChild) row.classList.remove('flash');
  });
  const more = h('button', { type: 'button', class: 'button', id: 'audit-more', hidden: true, onclick: () => void loadOlder() }, 'Load older events');

  replace(
    main,
    pageHeader('Audit log'),
    h(
      'form',
      { class: 'toolbar', role: 'search', onsubmit: (event: Event) => event.preventDefault() },
      h('label', { class: 'field' }, h('span', null, 'Event'), eventSelect),
      h('label', { class: 'field grow' }, h('span', null, 'Search'), search),
    ),
    wrap,
    note,
    more,
  );

  eventSelect.addEventListener('change', () => {
    filters.event = eventSelect.value;
    void load();
  });
  search.addEventListener('input', () => {
    filters.q = search.value;
    applyText();
  });

  function query(extra: Record<string, string> = {}): Record<string, string> {
    return { order: 'created_at.desc', limit: String(PAGE_SIZE), ...(filters.event === 'all' ? {} : { event: `eq.${filters.event}` }), ...extra };
  }

  function deviceOf(row: AuditRow): string {
    if (!row.machine_id) return '';
    const details = row.details as { hostname?: unknown };
    return hostnames.get(row.machine_id) ?? (typeof details.hostname === 'string' ? details.hostname : row.machine_id.slice(0, 8));
  }

  function rowFor(entry: AuditRow): HTMLTableRowElement {
    const summary = auditSummary(entry.event, entry.details);
    const device = deviceOf(entry);
    const row = h(
      'tr',
      { 'data-event': entry.event, class: `tone-${eventTone(entry.event)}` },
      h('td', { 'data-label': 'Time' }, timeCell(entry.created_at)),
      h('td', { 'data-label': 'Event' }, h('span', { class: 'event', title: entry.event }, eventLabel(entry.event))),
      h('td', { 'data-label': 'Device' }, entry.machine_id ? h('a', { href: `#/devices/${encodeURIComponent(entry.machine_id)}` }, device) : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': 'Actor' }, h('span', { class: 'actor' }, entry.actor)),
      h('td', { 'data-label': 'Details', class: 'cell-details' }, summary || h('span', { class: 'muted' }, '—')),
    );
    row.dataset.text = `${entry.event} ${eventLabel(entry.event)} ${device} ${entry.actor} ${summary}`.toLowerCase();
    return row;
  }

  function applyText(): void {
    const words = filters.q.trim().toLowerCase().split(/\s+/).filter((word) => word !== '');
    let visible = 0;
    for (const row of tbody.rows) {
      const match = words.every((word) => (row.dataset.text ?? '').includes(word));
      row.hidden = !match;
      if (match) visible += 1;
    }
    wrap.hidden = visible === 0;
    if (!loaded) return;
    if (entries.length === 0) replace(note, emptyState(filters.event === 'all' ? 'No audit events yet' : `No “${eventLabel(filters.event)}” events`, 'Enrollments, quarantines, releases and setting changes are recorded here as they happen.'));
    else if (visible === 0) replace(note, emptyState('No loaded event matches the search', exhausted ? '' : 'Older events may: load them below.'));
    else replace(note);
    more.hidden = exhausted;
  }

  async function load(): Promise<void> {
    try {
      const [machines, page] = await Promise.all([rows<Pick<Machine, 'id' | 'hostname'>>('machines', { select: 'id,hostname' }), rows<AuditRow>('audit_log', query())]);
      hostnames.clear();
      for (const machine of machines) hostnames.set(machine.id, machine.hostname);
      entries = page;
      exhausted = page.length < PAGE_SIZE;
      replace(tbody, entries.map(rowFor));
      loaded = true;
      applyText();
    } catch (error) {
      replace(note, errorState(error));
    }
  }

  async function loadOlder(): Promise<void> {
    const oldest = entries.at(-1);
    if (!oldest) return;
    try {
      const page = await rows<AuditRow>('audit_log', query({ created_at: `lte.${oldest.created_at}` }));
      const seen = new Set(entries.map((entry) => entry.id));
      const fresh = page.filter((entry) => !seen.has(entry.id));
      exhausted = page.length < PAGE_SIZE || fresh.length === 0;
      entries.push(...fresh);
      for (const entry of fresh) tbody.append(rowFor(entry));
      applyText();
    } catch (error) {
      replace(note, errorState(error));
    }
  }

  const unsubscribe = context.live.subscribe((event) => {
    if (event.type === 'resync') {
      void load();
      return;
    }
    if (!loaded) return;
    if (event.table === 'machines' && typeof event.data.hostname === 'string') hostnames.set(String(event.data.id), event.data.hostname);
    if (event.table !== 'audit_log') return;
    if (event.data.truncated === true) {
      void load(); // too large for the cross-process relay: read it from the table
      return;
    }
    const entry = event.data as unknown as AuditRow;
    if (filters.event !== 'all' && entry.event !== filters.event) return;
    if (entries.some((existing) => existing.id === entry.id)) return;
    entries.unshift(entry);
    const row = rowFor(entry);
    row.classList.add('flash');
    tbody.prepend(row);
    applyText();
  });

  void load();
  const clock = window.setInterval(() => refreshTimes(tbody), 15_000);
  return () => {
    unsubscribe();
    window.clearInterval(clock);
  };
};
