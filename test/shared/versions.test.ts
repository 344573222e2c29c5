/** Dotted version numbers (src/shared/versions.ts, SPEC 7.2). */
import { describe, expect, it } from 'vitest';
import { compareVersions, isVersion, newerVersion, parseVersion } from '../../src/shared/versions.ts';

describe('versions', () => {
  it('compare numerically, component by component', () => {
    expect(compareVersions('10.0.9', '10.0.10')).toBe(-1);
    expect(compareVersions('10.0.10', '10.0.9')).toBe(1);
    expect(compareVersions('14.4.1', '14.4')).toBe(1);
    expect(compareVersions('13.6.1', '14.4')).toBe(-1);
    expect(compareVersions('10.0.22631.3447', '10.0.22631')).toBe(1);
    expect(compareVersions('24.04', '22.10')).toBe(1);
    expect(compareVersions('9', '10')).toBe(-1); // not as text
  });

  it('count a missing component as 0', () => {
    expect(compareVersions('14', '14.0.0')).toBe(0);
    expect(compareVersions('14.0', '14')).toBe(0);
    expect(compareVersions('12', '12.0.1')).toBe(-1);
  });

  it('are unknown when either side is not a dotted version', () => {
    for (const bad of ['', ' ', 'rolling', '15.0-beta', '1..2', '.1', '1.', 'v14', '1e3', '14.4.1 (a)', null, undefined, 14, '1.2.3.4.5.6.7.8.9', '1234567890']) {
      expect(isVersion(bad), String(bad)).toBe(false);
      expect(compareVersions(bad, '14'), String(bad)).toBeNull();
      expect(compareVersions('14', bad), String(bad)).toBeNull();
    }
    expect(parseVersion(' 14.4 ')).toEqual([14, 4]);
  });

  it('pick the newer of two, a non-version losing', () => {
    expect(newerVersion('14.4', '14.10')).toBe('14.10');
    expect(newerVersion('14.10', '14.4')).toBe('14.10');
    expect(newerVersion(null, '1.0')).toBe('1.0');
    expect(newerVersion('junk', '1.0')).toBe('1.0');
    expect(newerVersion('1.0', null)).toBe('1.0');
    expect(newerVersion(null, null)).toBeNull();
  });
});
