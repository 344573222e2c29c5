/**
 * THE status decision (src/server/domain/transitions.ts), table-tested: every status ×
 * quarantine reason × exemption against every fact. The HTTP-level tests (seed plan,
 * enforcement rules, no-verdict, crash consistency) cover applying the transitions.
 */
import { describe, expect, it } from 'vitest';
import type { Fact, MachineStatus, QuarantineReason, StatusView } from '../../src/server/domain/transitions.ts';
import { nextStatus } from '../../src/server/domain/transitions.ts';

const machine = (status: MachineStatus, quarantine_reason: QuarantineReason | null = null, posture_exempt = false): StatusView => ({ status, quarantine_reason, posture_exempt });
const verdict = (compliant: boolean, mode: 'enforce' | 'monitor' | 'disabled' = 'enforce', expired = false, blocking = !compliant): Fact => ({ kind: 'verdict', mode, compliant, blocking, expired });
const outcome = (view: StatusView, fact: Fact) => {
  const next = nextStatus(view, fact);
  return next.kind === 'stay' ? 'stay' : `${next.kind} → ${next.to.status}${next.to.quarantine_reason ? `/${next.to.quarantine_reason}` : ''}`;
};

describe('nextStatus', () => {
  it.each([
    // Verdicts in enforce mode.
    [machine('online'), verdict(false), 'auto_quarantine → quarantined/posture'],
    [machine('online'), verdict(false, 'enforce', true), 'auto_quarantine → quarantined/expired'],
    [machine('online'), verdict(true), 'stay'],
    [machine('online', null, true), verdict(false), 'stay'], // exempt: recorded, never quarantined
    [machine('offline'), verdict(false), 'stay'], // judged when it comes back
    [machine('quarantined', 'posture'), verdict(true), 'auto_release → online'],
    [machine('quarantined', 'expired'), verdict(true), 'auto_release → online'],
    [machine('quarantined', 'posture', true), verdict(false), 'auto_release → online'], // exempted while quarantined
    [machine('quarantined', 'manual'), verdict(true), 'stay'], // only an admin lifts it
    [machine('quarantined', 'posture'), verdict(false), 'stay'],
    // Failing, but every violation in grace or exempt (SPEC 7.3): nothing blocks.
    [machine('online'), verdict(false, 'enforce', false, false), 'stay'],
    [machine('quarantined', 'posture'), verdict(false, 'enforce', false, false), 'auto_release → online'],
    [machine('quarantined', 'manual'), verdict(false, 'enforce', false, false), 'stay'],
    [machine('offline'), verdict(false, 'enforce', false, false), 'stay'],
    // Verdicts outside enforce mode never change a status.
    [machine('online'), verdict(false, 'monitor'), 'stay'],
    [machine('quarantined', 'posture'), verdict(true, 'monitor'), 'stay'],
    [machine('quarantined', 'posture'), verdict(true, 'disabled'), 'stay'],
    // Liveness.
    [machine('online'), { kind: 'silence' }, 'went_offline → offline'],
    [machine('quarantined', 'posture'), { kind: 'silence' }, 'stay'], // going offline is no way out
    [machine('offline'), { kind: 'silence' }, 'stay'],
    [machine('offline'), { kind: 'heartbeat' }, 'came_back → online'],
    [machine('quarantined', 'manual'), { kind: 'heartbeat' }, 'stay'],
    [machine('online'), { kind: 'heartbeat' }, 'stay'],
    // Admins.
    [machine('online'), { kind: 'admin_hold' }, 'manual_quarantine → quarantined/manual'],
    [machine('offline'), { kind: 'admin_hold' }, 'manual_quarantine → quarantined/manual'],
    [machine('quarantined', 'posture'), { kind: 'admin_hold' }, 'manual_hold → quarantined/manual'],
    [machine('quarantined', 'manual'), { kind: 'admin_hold' }, 'stay'],
    [machine('quarantined', 'manual'), { kind: 'admin_release' }, 'manual_release → online'],
    [machine('quarantined', 'expired'), { kind: 'admin_release' }, 'manual_release → online'],
    [machine('online'), { kind: 'admin_release' }, 'stay'],
  ] as const)('%o + %o → %s', (view, fact, expected) => {
    expect(outcome(view, fact)).toBe(expected);
  });

  it('every change names the status the row must still have (the conditional update)', () => {
    const next = nextStatus(machine('quarantined', 'expired'), verdict(true));
    expect(next).toMatchObject({ requires: { status: 'quarantined', reasons: ['posture', 'expired'] } });
    expect(nextStatus(machine('offline'), { kind: 'admin_hold' })).toMatchObject({ requires: { status: 'offline' } });
  });

  it("silence changes exactly the online machines: what the sweeper's bulk UPDATE matches", () => {
    const views = (['online', 'offline', 'quarantined'] as const).flatMap((status) => [null, 'posture', 'expired', 'manual'].map((reason) => machine(status, status === 'quarantined' ? (reason as QuarantineReason | null) : null)));
    for (const view of views) expect(nextStatus(view, { kind: 'silence' }).kind === 'went_offline', JSON.stringify(view)).toBe(view.status === 'online');
  });

  it('every answer says why', () => {
    for (const view of [machine('online'), machine('quarantined', 'manual')]) for (const fact of [verdict(true), { kind: 'silence' } as const]) expect(nextStatus(view, fact).why.length).toBeGreaterThan(5);
  });
});
