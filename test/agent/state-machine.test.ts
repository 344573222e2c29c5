/**
 * Every transition of the agent state machine (SPEC section 6), without timers or
 * network: the machine is pure, and a simulated clock drives the scenario at the end.
 */
import { describe, expect, it } from 'vitest';
import type { AgentEffect, AgentEvent, AgentMachine, AgentStateName, HeartbeatResult, ReportResult } from '../../src/agent/state-machine.ts';
import { DEFAULT_INTERVALS, backoffDelay, initialMachine, transition } from '../../src/agent/state-machine.ts';

const enrolled = (state: AgentStateName, extra: Partial<AgentMachine> = {}): AgentMachine => ({ ...initialMachine(true), state, ...extra });
const beat = (quarantined: boolean, extra: Partial<HeartbeatResult> = {}): AgentEvent => ({
  type: 'HEARTBEAT_OK',
  at: 1_000,
  response: { status: quarantined ? 'quarantined' : 'online', quarantined, peers_version: 7, heartbeat_interval_s: 1, posture_interval_s: 5, quarantine_poll_s: 2, ...extra },
});
const report = (compliant: boolean, quarantined = !compliant): AgentEvent => ({
  type: 'REPORT_OK',
  at: 2_000,
  response: { compliant, violations: compliant ? [] : ['firewall_required'], findings: [], quarantined, mode: 'enforce', status: quarantined ? 'quarantined' : 'online' } satisfies ReportResult,
});
const types = (effects: readonly AgentEffect[]) => effects.map((e) => (e.type === 'SET_TIMER' ? `SET_TIMER:${e.timer}:${e.delayMs}` : e.type === 'SEND_HEARTBEAT' ? `SEND_HEARTBEAT:${e.fullPeers ? 'full' : 'delta'}` : e.type)).filter((t) => t !== 'LOG');

describe('transitions', () => {
  const cases: Array<{ name: string; from: AgentMachine; event: AgentEvent; to: AgentStateName; effects: string[] }> = [
    { name: 'START, not enrolled → DISCONNECTED, nothing sent', from: initialMachine(false), event: { type: 'START' }, to: 'DISCONNECTED', effects: [] },
    { name: 'START, enrolled → resumes, heartbeat (full peers) + report + local cycle', from: enrolled('QUARANTINE'), event: { type: 'START' }, to: 'QUARANTINE', effects: ['SEND_HEARTBEAT:full', 'SEND_REPORT', 'SET_TIMER:local_check:15000'] },
    { name: 'DISCONNECTED + heartbeat OK → CONNECTED, intervals from the server', from: enrolled('DISCONNECTED'), event: beat(false), to: 'CONNECTED', effects: ['SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'DISCONNECTED + heartbeat says quarantined → QUARANTINE, report poll scheduled', from: enrolled('DISCONNECTED'), event: beat(true), to: 'QUARANTINE', effects: ['SET_TIMER:report:2000', 'SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'CONNECTED + heartbeat OK → CONNECTED', from: enrolled('CONNECTED'), event: beat(false), to: 'CONNECTED', effects: ['SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'CONNECTED + heartbeat quarantined → QUARANTINE', from: enrolled('CONNECTED'), event: beat(true), to: 'QUARANTINE', effects: ['SET_TIMER:report:2000', 'SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'QUARANTINE + heartbeat still quarantined → QUARANTINE (no second report timer)', from: enrolled('QUARANTINE'), event: beat(true), to: 'QUARANTINE', effects: ['SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'QUARANTINE + heartbeat released (admin) → COMPLIANT, fetch full peers', from: enrolled('QUARANTINE'), event: beat(false), to: 'COMPLIANT', effects: ['SEND_HEARTBEAT:full', 'SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'COMPLIANT + heartbeat with peers → CONNECTED', from: enrolled('COMPLIANT'), event: beat(false), to: 'CONNECTED', effects: ['SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'COMPLIANT + heartbeat quarantined again → QUARANTINE', from: enrolled('COMPLIANT'), event: beat(true), to: 'QUARANTINE', effects: ['SET_TIMER:report:2000', 'SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'CONNECTED + failing report in enforce → QUARANTINE, poll every quarantine_poll_s', from: enrolled('CONNECTED'), event: report(false), to: 'QUARANTINE', effects: ['SET_TIMER:report:60000', 'PERSIST'] },
    { name: 'CONNECTED + failing report in monitor (not quarantined) → CONNECTED, normal interval', from: enrolled('CONNECTED'), event: report(false, false), to: 'CONNECTED', effects: ['SET_TIMER:report:300000', 'PERSIST'] },
    { name: 'QUARANTINE + compliant report → COMPLIANT, fetch peers at once', from: enrolled('QUARANTINE'), event: report(true), to: 'COMPLIANT', effects: ['SEND_HEARTBEAT:full', 'SET_TIMER:report:300000', 'PERSIST'] },
    { name: 'QUARANTINE + still failing report → QUARANTINE, poll again', from: enrolled('QUARANTINE'), event: report(false), to: 'QUARANTINE', effects: ['SET_TIMER:report:60000', 'PERSIST'] },
    { name: 'DISCONNECTED + compliant report → CONNECTED', from: enrolled('DISCONNECTED'), event: report(true), to: 'CONNECTED', effects: ['SET_TIMER:report:300000', 'PERSIST'] },
    { name: 'heartbeat timer → heartbeat with peers_version', from: enrolled('CONNECTED'), event: { type: 'TIMER', timer: 'heartbeat' }, to: 'CONNECTED', effects: ['SEND_HEARTBEAT:delta'] },
    { name: 'report timer → report', from: enrolled('QUARANTINE'), event: { type: 'TIMER', timer: 'report' }, to: 'QUARANTINE', effects: ['SEND_REPORT'] },
    { name: 'local-check timer → check and re-arm (also while quarantined)', from: enrolled('QUARANTINE'), event: { type: 'TIMER', timer: 'local_check' }, to: 'QUARANTINE', effects: ['CHECK_LOCAL_SIGNALS', 'SET_TIMER:local_check:15000'] },
    { name: 'timers do nothing when not enrolled', from: initialMachine(false), event: { type: 'TIMER', timer: 'heartbeat' }, to: 'DISCONNECTED', effects: [] },
    { name: 'local signals changed → report at once', from: enrolled('QUARANTINE'), event: { type: 'LOCAL_SIGNALS', changed: true }, to: 'QUARANTINE', effects: ['SEND_REPORT'] },
    { name: 'local signals unchanged → nothing', from: enrolled('CONNECTED'), event: { type: 'LOCAL_SIGNALS', changed: false }, to: 'CONNECTED', effects: [] },
    { name: 'server unreachable keeps QUARANTINE (never leaves by going offline)', from: enrolled('QUARANTINE'), event: { type: 'REQUEST_FAILED', request: 'heartbeat', error: 'ECONNREFUSED' }, to: 'QUARANTINE', effects: ['SET_TIMER:heartbeat:1000', 'PERSIST'] },
    { name: 'server unreachable keeps CONNECTED', from: enrolled('CONNECTED'), event: { type: 'REQUEST_FAILED', request: 'report', error: '500' }, to: 'CONNECTED', effects: ['SET_TIMER:report:1000', 'PERSIST'] },
    { name: '`ztna down` → DISCONNECTED, not enrolled, timers cancelled', from: enrolled('QUARANTINE'), event: { type: 'DISCONNECT' }, to: 'DISCONNECTED', effects: ['CANCEL_TIMERS', 'PERSIST'] },
    { name: 'node key rejected → DISCONNECTED, not enrolled, timers cancelled', from: enrolled('CONNECTED'), event: { type: 'KEY_REJECTED' }, to: 'DISCONNECTED', effects: ['CANCEL_TIMERS', 'PERSIST'] },
  ];
  it.each(cases)('$name', ({ from, event, to, effects }) => {
    const result = transition(from, event, () => 1);
    expect(result.machine.state).toBe(to);
    expect(types(result.effects)).toEqual(effects);
  });

  // Was: a release noticed by a report answer logged "compliant again" but not the
  // "state QUARANTINE → COMPLIANT" line a release noticed by a heartbeat logs, so the
  // daemon's log (and the e2e test reading it) depended on which answer came first.
  it.each(cases.filter((c) => c.from.state !== c.to))('every state change is logged as "state A → B": $name', ({ from, event, to }) => {
    const { effects } = transition(from, event, () => 1);
    const lines = effects.filter((effect) => effect.type === 'LOG').map((effect) => (effect as { message: string }).message);
    expect(lines).toContain(`state ${from.state} → ${to}`);
  });

  // SPEC 7.1: intervals are at most 86,400 s and the agent clamps whatever it receives. Was:
  // a value above Node's 24.8-day timer limit (2^31-1 ms) was passed to setTimeout, which
  // fires such a timer at once — one bad setting made every agent of an org loop.
  it('intervals above 86,400 s are clamped to 86,400 s, never handed to a timer as is', () => {
    const huge = beat(true, { heartbeat_interval_s: 3_000_000, posture_interval_s: 1e12, quarantine_poll_s: 86_401 });
    const { machine, effects } = transition(enrolled('CONNECTED'), huge);
    expect(machine.intervals).toMatchObject({ heartbeatMs: 86_400_000, postureMs: 86_400_000, quarantinePollMs: 86_400_000 });
    for (const effect of effects) if (effect.type === 'SET_TIMER') expect(effect.delayMs).toBeLessThanOrEqual(86_400_000);
  });

  it('a heartbeat answer records reachability, peers_version, status and the server intervals', () => {
    const { machine } = transition(enrolled('DISCONNECTED', { consecutiveFailures: 3 }), beat(false, { heartbeat_interval_s: 10 }));
    expect(machine).toMatchObject({ serverReachable: true, consecutiveFailures: 0, peersVersion: 7, lastHeartbeatAt: 1_000, serverStatus: 'online' });
    expect(machine.intervals).toEqual({ heartbeatMs: 10_000, postureMs: 5_000, quarantinePollMs: 2_000, localCheckMs: 15_000 });
  });

  it('nonsense intervals from a server are ignored, not obeyed', () => {
    const { machine } = transition(enrolled('CONNECTED'), beat(false, { heartbeat_interval_s: 0, posture_interval_s: Number.NaN }));
    expect(machine.intervals.heartbeatMs).toBe(DEFAULT_INTERVALS.heartbeatMs);
    expect(machine.intervals.postureMs).toBe(DEFAULT_INTERVALS.postureMs);
  });

  it('a report answer keeps the verdict for `ztna status`', () => {
    const { machine } = transition(enrolled('CONNECTED'), report(false));
    expect(machine.lastVerdict).toEqual({ compliant: false, violations: ['firewall_required'], findings: [], quarantined: true, mode: 'enforce' });
  });

  // SPEC 7.3: the machine's tags (policy targeting in `ztna posture check`) and posture_state
  // (`ztna status`: "in grace — blocks at …") come from the server's answers.
  it('a heartbeat that names tags and posture_state records them; one that does not keeps the last known', () => {
    const { machine } = transition(enrolled('CONNECTED'), beat(false, { tags: ['build', 'ci'], posture_state: 'grace' }));
    expect(machine).toMatchObject({ tags: ['build', 'ci'], postureState: 'grace' });
    const { machine: after } = transition(machine, beat(false));
    expect(after).toMatchObject({ tags: ['build', 'ci'], postureState: 'grace' });
    expect(transition(machine, beat(false, { tags: [], posture_state: 'compliant' })).machine).toMatchObject({ tags: [], postureState: 'compliant' });
    expect(initialMachine(true)).toMatchObject({ tags: null, postureState: null });
  });

  it('a report answer with posture_state records it; `ztna down` forgets tags and state', () => {
    const graced: AgentEvent = { type: 'REPORT_OK', at: 2_000, response: { compliant: false, violations: ['firewall_required'], findings: [], quarantined: false, mode: 'enforce', status: 'online', posture_state: 'grace' } };
    const { machine } = transition(enrolled('CONNECTED', { tags: ['build'] }), graced);
    expect(machine).toMatchObject({ state: 'CONNECTED', postureState: 'grace', tags: ['build'] });
    expect(transition(machine, report(false)).machine.postureState).toBe('grace');
    expect(transition(machine, { type: 'DISCONNECT' }).machine).toMatchObject({ tags: null, postureState: null });
  });
});

describe('backoff', () => {
  it('doubles per failure with 50–100 % jitter, capped at the normal interval', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 30_000, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(backoffDelay(20, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(3, 30_000, () => 0)).toBe(2_000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(4, 30_000, Math.random);
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });
  it('consecutive failures grow the delay; one success resets it', () => {
    let machine = enrolled('CONNECTED');
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = transition(machine, { type: 'REQUEST_FAILED', request: 'heartbeat', error: 'timeout' }, () => 1);
      machine = result.machine;
      const timer = result.effects.find((e) => e.type === 'SET_TIMER');
      delays.push(timer && timer.type === 'SET_TIMER' ? timer.delayMs : -1);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(machine.serverReachable).toBe(false);
    expect(transition(machine, beat(false)).machine.consecutiveFailures).toBe(0);
  });
});

describe('a simulated day in the life (simulated clock, no sleeps)', () => {
  it('connects, gets quarantined, polls, is fixed locally, reports at once, reconnects', () => {
    // A miniature driver: a queue of timers on a simulated clock, a scripted server.
    let now = 0;
    let machine = initialMachine(true);
    let serverQuarantines = false;
    let localFixed = false;
    const timers = new Map<string, number>();
    const log: string[] = [];
    const sent: Array<{ at: number; what: string }> = [];
    const run = (event: AgentEvent) => {
      const result = transition(machine, event, () => 1);
      if (result.machine.state !== machine.state) log.push(`${now}ms ${machine.state}→${result.machine.state}`);
      machine = result.machine;
      for (const effect of result.effects) {
        if (effect.type === 'SET_TIMER') timers.set(effect.timer, now + effect.delayMs);
        if (effect.type === 'SEND_HEARTBEAT') {
          sent.push({ at: now, what: `heartbeat${effect.fullPeers ? ' (full)' : ''}` });
          run({ type: 'HEARTBEAT_OK', at: now, response: { status: serverQuarantines ? 'quarantined' : 'online', quarantined: serverQuarantines, peers_version: 1, heartbeat_interval_s: 30, posture_interval_s: 300, quarantine_poll_s: 60 } });
        }
        if (effect.type === 'SEND_REPORT') {
          sent.push({ at: now, what: 'report' });
          serverQuarantines = !localFixed;
          run({ type: 'REPORT_OK', at: now, response: { compliant: localFixed, violations: localFixed ? [] : ['firewall_required'], findings: [], quarantined: serverQuarantines, mode: 'enforce', status: serverQuarantines ? 'quarantined' : 'online' } });
        }
        if (effect.type === 'CHECK_LOCAL_SIGNALS') run({ type: 'LOCAL_SIGNALS', changed: localFixed && serverQuarantines });
      }
    };
    const advanceTo = (t: number) => {
      for (;;) {
        const next = [...timers].filter(([, at]) => at <= t).sort((a, b) => a[1] - b[1])[0];
        if (!next) break;
        timers.delete(next[0]);
        now = next[1];
        run({ type: 'TIMER', timer: next[0] as 'heartbeat' | 'report' | 'local_check' });
      }
      now = t;
    };
    run({ type: 'START' });
    expect(machine.state).toBe('QUARANTINE'); // the first report failed
    advanceTo(125_000);
    expect(sent.filter((s) => s.what === 'report').map((s) => s.at)).toEqual([0, 60_000, 120_000]); // 60 s poll
    localFixed = true; // the person turns the firewall on at t = 125 s
    advanceTo(140_000); // the next local check (every 15 s) sees it
    expect(sent.filter((s) => s.what === 'report').at(-1)?.at).toBe(135_000);
    expect(machine.state).toBe('CONNECTED');
    expect(log).toEqual(['0ms DISCONNECTED→CONNECTED', '0ms CONNECTED→QUARANTINE', '135000ms QUARANTINE→COMPLIANT', '135000ms COMPLIANT→CONNECTED']);
    expect(sent.some((s) => s.at === 135_000 && s.what === 'heartbeat (full)')).toBe(true);
  });
});
