/**
 * `ztna posture status` and `ztna posture check`: commands are functions that take
 * options and return data; rendering and exit codes happen elsewhere (src/cli/entry.ts).
 *
 * When enrolled (and not `--local` / `--policy`), `posture status` shows the server's
 * verdict; otherwise both evaluate locally with the shared evaluation function, against
 * `--policy` or the built-in default policy. A policy file's targeting (SPEC 7.3:
 * `platforms`, `tags`) decides which of its policies combine for this device
 * (src/agent/targeting.ts); its grace periods do not apply locally (there is no server to
 * remember when a violation first appeared): every violation counts now.
 */
import { collectLocalReport } from '../../agent/local-posture.ts';
import type { LocalCollectOptions } from '../../agent/local-posture.ts';
import type { DeviceTarget, PolicySelection, TargetablePolicy } from '../../agent/targeting.ts';
import { needsTags, selectPolicies } from '../../agent/targeting.ts';
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
  /** A policy file's targeting (SPEC 7.3): which of its policies applied to this device and which were skipped, and why. */
  readonly policies?: PolicySelection;
  /** The server's posture_state after its verdict (SPEC 7.3, e.g. `grace`), when it says. */
  readonly posture_state?: string;
  /** Things a person should know about how the result was reached (printed on stderr). */
  readonly warnings?: readonly string[];
}

const POLICY_EXPECTATION =
  'a JSON object with enabled, require_disk_encryption, require_firewall, require_antivirus, require_screen_lock, require_secure_boot (booleans), max_patch_age_days (integer or null), min_os_versions ({"darwin": "14.4", …} or null), min_agent_version (dotted version or null), platforms (["darwin", "windows", "linux"] or null), tags (["tag", …] or null) and grace_period_s (seconds), or a non-empty array of such objects';
const REPORT_EXPECTATION =
  'a JSON object with any of os_version (string), disk_encrypted, firewall_enabled, antivirus_enabled, screen_lock_enabled, secure_boot_enabled (true, false or null), patch_age_days (integer >= 0 or null) and os_version_number (dotted version or null)';

// The file loaders (and with them zod) are loaded only when a file is given.
export async function loadPolicies(path: string): Promise<Array<PolicyLike & TargetablePolicy>> {
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
    // Another machine's observations: its tags are not known here (tagged policies apply, fail closed).
    return evaluateLocally(report, policies, options.policyPath, { tags: null });
  }
  if (!options.local && !options.policyPath) {
    // Enrolled: the server's verdict is the one that counts (this also forces a report).
    const { readEnrollment } = await import('../../agent/enrollment.ts');
    const { configDir } = await import('../../agent/paths.ts');
    if (await readEnrollment(configDir())) {
      const { reportThroughDaemon, reportToServer } = await import('./connection.ts');
      const viaDaemon = await reportThroughDaemon();
      if (viaDaemon) {
        return {
          report: viaDaemon.report,
          compliant: viaDaemon.compliant,
          violations: [...viaDaemon.violations],
          // Passed through as the server sent them (blocks_at, exempt_until: SPEC 7.3).
          findings: [...(viaDaemon.findings ?? [])],
          quarantined: viaDaemon.quarantined,
          mode: viaDaemon.mode,
          ...(viaDaemon.posture_state === undefined ? {} : { posture_state: viaDaemon.posture_state }),
          source: 'server',
          policy: 'the server\'s',
        };
      }
      const report = await collectLocalReport(options);
      const verdict = await reportToServer(report);
      if (verdict) {
        return {
          report,
          compliant: verdict.compliant,
          violations: [...verdict.violations],
          findings: [...verdict.findings],
          quarantined: verdict.quarantined,
          mode: verdict.mode,
          ...(verdict.posture_state === undefined ? {} : { posture_state: verdict.posture_state }),
          source: 'server',
          policy: 'the server\'s',
        };
      }
    }
  }
  const report = await collectLocalReport(options);
  return evaluateLocally(report, policies, options.policyPath, {});
}

export interface PostureCheckOptions extends LocalCollectOptions {
  readonly policyPath: string;
  readonly reportPath?: string;
  /** Evaluate as if this device carried these tags (`--tags`), instead of its own; null: not known. */
  readonly tags?: readonly string[] | null;
  /** The config directory to read the enrollment and state from (default: configDir()). */
  readonly configDir?: string;
}

export async function postureCheck(options: PostureCheckOptions): Promise<PostureResult> {
  const policies = await loadPolicies(options.policyPath);
  const report = options.reportPath ? await loadReport(options.reportPath) : await collectLocalReport(options);
  return evaluateLocally(report, policies, options.policyPath, options);
}

/**
 * The local verdict: the policies that apply to this device (SPEC 7.3 targeting) combine.
 * The built-in default has no targeting, so the selection is shown only for a policy file.
 */
async function evaluateLocally(
  report: PostureReport,
  policies: ReadonlyArray<PolicyLike & TargetablePolicy>,
  policyPath: string | undefined,
  options: { readonly tags?: readonly string[] | null; readonly configDir?: string },
): Promise<PostureResult> {
  if (policyPath === undefined) return { report, ...evaluatePosture(report, policies), source: 'local', policy: 'built-in default' };
  const { device, warnings } = await deviceTarget(report, policies, options);
  const { policies: applying, selection } = selectPolicies(policies, device);
  return { report, ...evaluatePosture(report, applying), source: 'local', policy: policyPath, policies: selection, ...(warnings.length > 0 ? { warnings } : {}) };
}

/**
 * What targeting reads of this device: the report's platform and, when a policy names
 * tags, the device's tags — `--tags`, else the latest the server named (the daemon's saved
 * state, then the enrollment), else none when not enrolled, else unknown. No server is asked.
 */
async function deviceTarget(
  report: PostureReport,
  policies: readonly TargetablePolicy[],
  options: { readonly tags?: readonly string[] | null; readonly configDir?: string },
): Promise<{ device: DeviceTarget; warnings: string[] }> {
  const platform = report.platform ?? null;
  const warnings: string[] = [];
  if (options.tags !== undefined && options.tags !== null) return { device: { platform, tags: [...options.tags], tags_from: 'option' }, warnings };
  if (!needsTags(policies)) return { device: { platform, tags: null, tags_from: 'not_needed' }, warnings };
  if (options.tags === null) return { device: { platform, tags: null, tags_from: 'unknown' }, warnings };
  const [{ readEnrollment, readState }, paths, { ZtnaError }] = await Promise.all([import('../../agent/enrollment.ts'), import('../../agent/paths.ts'), import('../../shared/errors.ts')]);
  const dir = options.configDir ?? paths.configDir();
  // An enrollment that cannot be read is an error (exit 2, saying what to do): the check
  // cannot tell whether the tagged policies apply, and a guessed verdict is worse than none.
  const enrollment = await readEnrollment(dir);
  if (!enrollment) return { device: { platform, tags: [], tags_from: 'not_enrolled' }, warnings };
  // The daemon's saved state is a cache of the server's answers: if it cannot be read, the
  // enrollment's tags still hold, and the person is told.
  const state = await readState(dir).catch((error: unknown) => {
    if (!(error instanceof ZtnaError)) throw error;
    warnings.push(`the agent's saved state could not be read, so the tags the server last named were not used (${error.message})`);
    return null;
  });
  if (state && state.machine.enrolled && state.machine.tags !== null) return { device: { platform, tags: [...state.machine.tags], tags_from: 'server' }, warnings };
  if (enrollment.tags !== undefined) return { device: { platform, tags: [...enrollment.tags], tags_from: 'enrollment' }, warnings };
  return { device: { platform, tags: null, tags_from: 'unknown' }, warnings };
}
