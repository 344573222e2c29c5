/**
 * What the agent keeps of the server's answers for policy targeting and grace (SPEC 7.3): the
 * tags in enrollment.json (from registration) and the tags and posture_state in state.json
 * (from heartbeats). Files written by an older agent, without them, still read (as not
 * known); a present field of the wrong type is refused like any other bad file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnrollment, readState, writeEnrollment, writeState } from '../../src/agent/enrollment.ts';
import { initialMachine } from '../../src/agent/state-machine.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'ztna-tags-'));
const enrollment = { server_url: 'https://ztna.example.com', machine_id: 'm-1', node_key: 'ztna_node_x', hostname: 'box', enrolled_at: '2026-12-01T10:00:00.000Z' };

describe.runIf(process.platform !== 'win32')('tags and posture_state on disk', () => {
  it('the enrollment keeps the tags; one without them (an older agent) reads without', async () => {
    const withTags = dir();
    await writeEnrollment(withTags, { ...enrollment, tags: ['build'] });
    expect((await readEnrollment(withTags))?.tags).toEqual(['build']);
    const without = dir();
    await writeEnrollment(without, enrollment);
    expect((await readEnrollment(without))?.tags).toBeUndefined();
  });

  it('an enrollment whose tags are not a list of strings is refused', async () => {
    const bad = dir();
    writeFileSync(join(bad, 'enrollment.json'), JSON.stringify({ ...enrollment, tags: 'build' }), { mode: 0o600 });
    await expect(readEnrollment(bad)).rejects.toThrow(/does not hold a valid enrollment/);
  });

  it('the state keeps tags and posture_state; an older agent\'s state reads them as not known (null)', async () => {
    const current = dir();
    const machine = { ...initialMachine(true), state: 'CONNECTED' as const, tags: ['build'], postureState: 'grace' };
    await writeState(current, { pid: 1, updated_at: '2026-12-01T10:00:00.000Z', machine });
    expect((await readState(current))?.machine).toMatchObject({ tags: ['build'], postureState: 'grace' });
    const older = dir();
    const { tags: _tags, postureState: _state, ...olderMachine } = machine;
    writeFileSync(join(older, 'state.json'), JSON.stringify({ pid: 1, updated_at: '2026-12-01T10:00:00.000Z', machine: olderMachine }));
    expect((await readState(older))?.machine).toMatchObject({ state: 'CONNECTED', tags: null, postureState: null });
    const bad = dir();
    writeFileSync(join(bad, 'state.json'), JSON.stringify({ pid: 1, updated_at: '2026-12-01T10:00:00.000Z', machine: { ...machine, tags: [1] } }));
    await expect(readState(bad)).rejects.toThrow(/does not hold the agent's state/);
  });
});
