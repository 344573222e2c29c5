/**
 * The real Linux collectors on the machine running the tests: they must answer every
 * signal with complete evidence and within bounds. Values are this host's business, so
 * only their types and the evidence are asserted.
 */
import { describe, expect, it } from 'vitest';
import { ALLOWED_COMMANDS } from '../../collectors/allowed-commands.ts';
import { collectPosture } from '../../collectors/collect.ts';
import { linuxCollectors } from '../../collectors/linux/index.ts';
import { SIGNAL_KEYS } from '../../collectors/types.ts';
import { createCommandRunner } from '../../src/platform/command-runner.ts';
import { realFileSystem } from '../../src/platform/file-system.ts';
import { postureSignalsSchema } from '../../src/shared/posture-schemas.ts';

describe.runIf(process.platform === 'linux')('real collectors on this Linux machine', () => {
  it('answers every signal with evidence', async () => {
    const collected = await collectPosture({
      collectors: linuxCollectors,
      platform: 'linux',
      runner: createCommandRunner({ allowList: ALLOWED_COMMANDS, platform: 'linux' }),
      fileSystem: realFileSystem,
      privileged: process.getuid?.() === 0,
    });
    expect(postureSignalsSchema.safeParse(collected.signals).success).toBe(true);
    for (const key of SIGNAL_KEYS) {
      const evidence = collected.evidence[key];
      expect(evidence.method, key).toBeTruthy();
      expect(evidence.detail.length, key).toBeGreaterThan(5);
      expect(evidence.duration_ms, key).toBeGreaterThanOrEqual(0);
      expect(evidence.duration_ms, key).toBeLessThan(30_000);
      const value = key === 'os_version' ? collected.signals.os_version : collected.signals[key];
      if (value === null) expect(evidence.reason, `${key} is unknown, so it needs a reason`).toBeTruthy();
      for (const observation of evidence.observations) {
        expect(observation.command ?? observation.file, key).toBeTruthy();
        if (observation.command) expect(observation.command[0], 'absolute path or allow-list id').toMatch(/^\/|^[a-z-]+$/);
      }
    }
    // The disk-encryption collector must have looked at the real root mount.
    expect(collected.evidence.disk_encrypted.observations.some((o) => o.file === '/proc/self/mountinfo')).toBe(true);
    expect(Date.parse(collected.collected_at)).not.toBeNaN();
  });
});
