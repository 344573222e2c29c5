/**
 * Policy targeting on the device (SPEC 7.3, src/agent/targeting.ts): which policies of a
 * policy file apply to this device, decided by its platform and its tags, and why the
 * others were skipped. Unknowns fail closed (the policy applies); a device that is not
 * enrolled carries no tags.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceTarget, TargetablePolicy } from '../../src/agent/targeting.ts';
import { needsTags, selectPolicies } from '../../src/agent/targeting.ts';

const all: TargetablePolicy = { enabled: true, name: 'baseline' };
const macs: TargetablePolicy = { enabled: true, name: 'macs', platforms: ['darwin'] };
const desktops: TargetablePolicy = { enabled: true, name: 'desktops', platforms: ['darwin', 'windows'] };
const build: TargetablePolicy = { enabled: true, id: 'pol-7', tags: ['build', 'ci'], grace_period_s: 3600 };
const off: TargetablePolicy = { enabled: false, name: 'off', tags: ['build'] };

const linux = (tags: DeviceTarget['tags'], tags_from: DeviceTarget['tags_from']): DeviceTarget => ({ platform: 'linux', tags, tags_from });

describe('selectPolicies', () => {
  it('platform match and mismatch: only the policies for this platform apply', () => {
    const { policies, selection } = selectPolicies([all, macs, desktops], linux(null, 'not_needed'));
    expect(policies).toEqual([all]);
    expect(selection.applied.map((policy) => policy.name)).toEqual(['baseline']);
    expect(selection.skipped).toEqual([
      expect.objectContaining({ position: 2, name: 'macs', reason: 'platform', detail: 'it applies to darwin; this device is linux' }),
      expect.objectContaining({ position: 3, name: 'desktops', reason: 'platform', detail: 'it applies to darwin, windows; this device is linux' }),
    ]);
    expect(selectPolicies([all, macs, desktops], { platform: 'darwin', tags: null, tags_from: 'not_needed' }).policies).toEqual([all, macs, desktops]);
  });

  it('a report without a known platform matches every platform list (fail closed), with a note', () => {
    const { policies, selection } = selectPolicies([macs], { platform: null, tags: null, tags_from: 'not_needed' });
    expect(policies).toEqual([macs]);
    expect(selection.applied[0]?.note).toMatch(/names no known platform.*fail closed/);
  });

  it('enrolled with a matching tag: the tagged policy applies; without one it is skipped', () => {
    expect(selectPolicies([all, build], linux(['ci'], 'enrollment')).policies).toEqual([all, build]);
    const other = selectPolicies([all, build], linux(['web'], 'server'));
    expect(other.policies).toEqual([all]);
    expect(other.selection.skipped).toEqual([expect.objectContaining({ position: 2, name: 'pol-7', reason: 'tags', detail: 'it targets tags build, ci; this device carries web', grace_period_s: 3600 })]);
    expect(selectPolicies([build], linux([], 'enrollment')).selection.skipped[0]?.detail).toBe('it targets tags build, ci; this device carries no tags');
  });

  it('not enrolled: a tagged policy does not apply, and the reason says so', () => {
    const { policies, selection } = selectPolicies([all, build], linux([], 'not_enrolled'));
    expect(policies).toEqual([all]);
    expect(selection.skipped).toEqual([expect.objectContaining({ reason: 'not_enrolled', detail: expect.stringMatching(/not enrolled, so it carries no tags .*--tags/) })]);
  });

  it('enrolled but tags not known: the tagged policy applies (fail closed), with a note', () => {
    const { policies, selection } = selectPolicies([build], linux(null, 'unknown'));
    expect(policies).toEqual([build]);
    expect(selection.applied).toEqual([expect.objectContaining({ name: 'pol-7', note: expect.stringMatching(/tags are not known.*fail closed/) })]);
  });

  it('a disabled policy is listed as skipped, and does not need the tags', () => {
    const { policies, selection } = selectPolicies([off], linux(['build'], 'option'));
    expect(policies).toEqual([]);
    expect(selection.skipped).toEqual([expect.objectContaining({ name: 'off', reason: 'disabled' })]);
    expect(needsTags([all, macs, off])).toBe(false);
    expect(needsTags([all, build])).toBe(true);
  });

  it('applied entries carry the position in the file (from 1), the scope and the grace period', () => {
    const { selection } = selectPolicies([macs, build], { platform: 'darwin', tags: ['build'], tags_from: 'option' });
    expect(selection).toEqual({
      device: { platform: 'darwin', tags: ['build'], tags_from: 'option' },
      applied: [
        { position: 1, name: 'macs', platforms: ['darwin'], tags: null, grace_period_s: 0 },
        { position: 2, name: 'pol-7', platforms: null, tags: ['build', 'ci'], grace_period_s: 3600 },
      ],
      skipped: [],
    });
  });
});
