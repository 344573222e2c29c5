/**
 * `ztna posture status` and `ztna posture check`: commands are functions that take
 * options and return data; rendering and exit codes happen elsewhere (src/cli/entry.ts).
 *
 * Until the agent is enrolled with a server (a later issue adds `ztna up`), both
 * evaluate locally with the shared evaluation function, against `--policy` or the
 * built-in default policy.
 */
import { collectLocalReport } from '../../agent/local-posture.ts';
import type { LocalCollectOptions } from '../../agent/local-posture.ts';
import type { PolicyLike, PostureFinding, PostureReport } from '../../shared/posture.ts';
import { DEFAULT_POLICY, evaluatePosture } from '../../shared/posture.ts';

export interface PostureResult {
  readonly report: PostureReport;
  readonly compliant: boolean;
  readonly violations: readonly string[];
  /** One structured finding per violation, in the same order (SPEC 7.2). */
  readonly findings: readonly PostureFinding[];
  readonly quarantined?: boolean;
  readonly mode?: string;
  readonly source: 'server' | 'local';
  /** Where the policy came from: a file path or "built-in default". Not part of the SPEC shape's required keys. */
  readonly policy: string;
}

const POLICY_EXPECTATION =
  'a JSON object with enabled, require_disk_encryption, require_firewall, require_antivirus, require_screen_lock, require_secure_boot (booleans), max_patch_age_days (integer or null), min_os_versions ({"darwin": "14.4", …} or null) and min_agent_version (dotted version or null), or a non-empty array of such objects';
const REPORT_EXPECTATION =
  'a JSON object with any of os_version (string), disk_encrypted, firewall_enabled, antivirus_enabled, screen_lock_enabled, secure_boot_enabled (true, false or null), patch_age_days (integer >= 0 or null) and os_version_number (dotted version or null)';

// The file loaders (and with them zod) are loaded only when a file is given.
export async function loadPolicies(path: string): Promise<PolicyLike[]> {
  const [{ loadJsonFile }, { policyFileSchema }] = await Promise.all([import('../../shared/json-file.ts'), import('../../shared/posture-schemas.ts')]);
  const parsed = await loadJsonFile(path, policyFileSchema, { noun: 'policy', invalidCode: 'invalid_policy', expected: POLICY_EXPECTATION });
  return Array.isArray(parsed) ? parsed : [parsed];
}

export async function loadReport(path: string): Promise<PostureReport> {
  const [{ loadJsonFile }, { postureReportSchema }] = await Promise.all([import('../../shared/json-file.ts'), import('../../shared/posture-schemas.ts')]);
  return loadJsonFile(path, postureReportSchema, { noun: 'report', invalidCode: 'invalid_report', expected: REPORT_EXPECTATION });
}

export interface PostureStatusOptions extends LocalCollectOptions {
  readonly policyPath?: string;
  /** Evaluate locally even when enrolled. */
  readonly local?: boolean;
  /** Evaluate a `ztna bugreport` bundle instead of this machine (always local). */
  readonly replayPath?: string;
}

export async function postureStatus(options: PostureStatusOptions): Promise<PostureResult> {
  // Load the policy first: a bad policy file should fail fast, before collecting anything.
  const policies = options.policyPath ? await loadPolicies(options.policyPath) : [DEFAULT_POLICY];
  if (options.replayPath) {
    const [{ loadBundle }, { replayReport }] = await Promise.all([import('./bugreport.ts'), import('../../agent/local-posture.ts')]);
    const report = await replayReport(await loadBundle(options.replayPath), options.onSignal ? { onSignal: options.onSignal } : {});
    return { report, ...evaluatePosture(report, policies), source: 'local', policy: options.policyPath ?? 'built-in default' };
  }
  if (!options.local && !options.policyPath) {
    // Enrolled: the server's verdict is the one that counts (this also forces a report).
    const { readEnrollment } = await import('../../agent/enrollment.ts');
    const { configDir } = await import('../../agent/paths.ts');
    if (await readEnrollment(configDir())) {
      const { reportThroughDaemon, reportToServer } = await import('./connection.ts');
      const viaDaemon = await reportThroughDaemon();
      if (viaDaemon) {
        return { report: viaDaemon.report, compliant: viaDaemon.compliant, violations: [...viaDaemon.violations], findings: [...(viaDaemon.findings ?? [])], quarantined: viaDaemon.quarantined, mode: viaDaemon.mode, source: 'server', policy: 'the server\'s' };
      }
      const report = await collectLocalReport(options);
      const verdict = await reportToServer(report);
      if (verdict) {
        return { report, compliant: verdict.compliant, violations: [...verdict.violations], findings: [...verdict.findings], quarantined: verdict.quarantined, mode: verdict.mode, source: 'server', policy: 'the server\'s' };
      }
    }
  }
  const report = await collectLocalReport(options);
  const verdict = evaluatePosture(report, policies);
  return { report, ...verdict, source: 'local', policy: options.policyPath ?? 'built-in default' };
}

export interface PostureCheckOptions extends LocalCollectOptions {
  readonly policyPath: string;
  readonly reportPath?: string;
}

export async function postureCheck(options: PostureCheckOptions): Promise<PostureResult> {
  const policies = await loadPolicies(options.policyPath);
  const report = options.reportPath ? await loadReport(options.reportPath) : await collectLocalReport(options);
  const verdict = evaluatePosture(report, policies);
  return { report, ...verdict, source: 'local', policy: options.policyPath };
}
