/**
 * THE catalogue of posture signals and of the policy requirements over them (SPEC 2 and
 * 7.2). Everything that lists signals iterates over these two arrays: the report and
 * policy schemas (posture-schemas.ts), the evaluation (posture.ts), the collectors'
 * registry type, the report fingerprint, the CLI's status block and progress line, the
 * server's storage, risk score and impact preview, and the dashboard. Adding a signal is
 * one entry here plus its collectors (README, "Adding a signal").
 *
 * Invariants:
 * - Order is meaning: SIGNALS is the order signals are shown in; REQUIREMENTS is the
 *   order of violation codes (SPEC 2 and 7.2), and the server's `posture_report_expired`
 *   comes after all of them.
 * - Every signal is optional on the wire: absent means unknown (`null`), and unknown fails
 *   closed under a requirement.
 * - This module is pure and loads nothing (no zod): the CLI's hot path imports it.
 */
import { compareVersions, isVersion, newerVersion } from './versions.ts';

export const PLATFORMS = ['darwin', 'windows', 'linux'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * What values a signal takes: `flag` true/false, `days` a whole number ≥ 0, `text` a
 * string (≤ 256 characters), `version` a dotted version (versions.ts).
 */
export type SignalKind = 'flag' | 'days' | 'text' | 'version';

export interface SignalSpec {
  readonly key: string;
  readonly kind: SignalKind;
  /** The label in `ztna posture status` and the dashboard ("Disk Encryption"). */
  readonly label: string;
  /** The signal in a sentence ("disk encryption"). */
  readonly noun: string;
  /**
   * Where `ztna posture status` shows it: `core` in SPEC 5's block (exactly its four lines,
   * which scripts and tests read by position), `more` in the lines after the verdict,
   * `evidence` only in the evidence.
   */
  readonly status: 'core' | 'more' | 'evidence';
  /** One line for `--help` and the README: what `true` (or the value) means. */
  readonly meaning: string;
  /** A column of `posture_reports` since schema 1 (SPEC 4); later signals live in its `signals` JSON. */
  readonly legacyColumn?: boolean;
}

export const SIGNALS = [
  { key: 'os_version', legacyColumn: true, kind: 'text', label: 'OS Release', noun: 'OS version', status: 'evidence', meaning: 'the OS name and version as the OS states it ("macOS 15.7.2 (24G325)")' },
  { key: 'disk_encrypted', legacyColumn: true, kind: 'flag', label: 'Disk Encryption', noun: 'disk encryption', status: 'core', meaning: 'the system volume is encrypted at rest (FileVault, BitLocker, LUKS)' },
  { key: 'firewall_enabled', legacyColumn: true, kind: 'flag', label: 'Firewall', noun: 'the firewall', status: 'core', meaning: 'new inbound connections are filtered by the host firewall' },
  { key: 'antivirus_enabled', legacyColumn: true, kind: 'flag', label: 'Antivirus', noun: 'antivirus', status: 'core', meaning: 'an antivirus or EDR is running with current signatures' },
  { key: 'patch_age_days', legacyColumn: true, kind: 'days', label: 'Patch Age', noun: 'the patch age', status: 'core', meaning: 'whole days since the OS last received an update' },
  { key: 'os_version_number', kind: 'version', label: 'OS Version', noun: 'the OS version number', status: 'more', meaning: 'the OS version as dotted numbers (14.4.1, 10.0.22631.3447, 24.04)' },
  { key: 'screen_lock_enabled', kind: 'flag', label: 'Screen Lock', noun: 'the screen lock', status: 'more', meaning: 'a password is needed after the screen locks or sleeps, within the OS idle limit' },
  { key: 'secure_boot_enabled', kind: 'flag', label: 'Secure Boot', noun: 'Secure Boot', status: 'more', meaning: 'UEFI Secure Boot is on (not applicable on Macs)' },
] as const satisfies readonly SignalSpec[];

type Signals = (typeof SIGNALS)[number];
export type SignalKey = Signals['key'];
export const SIGNAL_KEYS: readonly SignalKey[] = SIGNALS.map((signal) => signal.key);

type KindValue<K extends SignalKind> = K extends 'flag' ? boolean : K extends 'days' ? number : string;
/** The value type of one signal (`null` = unknown is added where it is stored). */
export type SignalValue<K extends SignalKey> = KindValue<Extract<Signals, { key: K }>['kind']>;
/** Every signal, unknown ones as null: what the evaluation takes. */
export type SignalSet = { [K in SignalKey]: SignalValue<K> | null };

export function signalSpec(key: SignalKey): SignalSpec {
  return SIGNALS.find((signal) => signal.key === key) as SignalSpec;
}

/** Whether `value` is a valid known value of a signal of this kind. */
export function isSignalValue(kind: SignalKind, value: unknown): boolean {
  switch (kind) {
    case 'flag':
      return typeof value === 'boolean';
    case 'days':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1_000_000;
    case 'text':
      return typeof value === 'string' && value.length >= 1 && value.length <= 256;
    case 'version':
      return isVersion(value);
  }
}

/** The signals of a report or stored row: each known value, and null for every absent or invalid one. */
export function signalSet(source: Readonly<Record<string, unknown>>): SignalSet {
  const set: Record<string, unknown> = {};
  for (const signal of SIGNALS) {
    const value = Object.hasOwn(source, signal.key) ? source[signal.key] : null;
    set[signal.key] = isSignalValue(signal.kind, value) ? value : null;
  }
  return set as SignalSet;
}

/** A change in any signal: a new report is due (the agent's local re-collection). */
export function signalFingerprint(source: Readonly<Record<string, unknown>>): string {
  const set = signalSet(source);
  return JSON.stringify(SIGNAL_KEYS.map((key) => set[key]));
}

// ---------------------------------------------------------------------------------------
// Requirements

/**
 * How a requirement is written in a policy and how several policies combine:
 * - `flag`: boolean, default false; any enabled policy requiring it requires it.
 * - `max`: whole number or null (no limit), default null; the smallest limit wins.
 * - `min_version`: dotted version or null, default null; the largest minimum wins.
 * - `min_version_by_platform`: `{darwin?, windows?, linux?}` → dotted version, or null;
 *   per platform the largest minimum wins; a platform not named has no minimum.
 */
export type RequirementKind = 'flag' | 'max' | 'min_version' | 'min_version_by_platform';

/** The report fields a requirement can judge: the signals, and the agent's own version. */
export type Subject = SignalKey | 'agent_version';

export interface RequirementSpec {
  /** The policy field (`require_firewall`, `max_patch_age_days`, …). */
  readonly field: string;
  readonly kind: RequirementKind;
  readonly subject: Subject;
  /** The violation code (SPEC 2 and 7.2). */
  readonly code: string;
  /** The dashboard's name for the requirement. */
  readonly label: string;
  /** Risk-score points while this violation stands (server/domain/risk.ts). */
  readonly risk: number;
  /** What the person on the device does about it, per platform. */
  readonly fix: Readonly<Record<Platform, string>>;
  /** Columns of `posture_policies` since schema 1; later requirements live in its `requirements` JSON. */
  readonly legacyColumn?: boolean;
}

export const REQUIREMENTS = [
  {
    field: 'require_disk_encryption',
    kind: 'flag',
    subject: 'disk_encrypted',
    code: 'disk_encryption_required',
    label: 'Require disk encryption',
    risk: 30,
    legacyColumn: true,
    fix: {
      darwin: 'turn on FileVault (System Settings → Privacy & Security → FileVault)',
      windows: 'turn on BitLocker for the system drive (Settings → Privacy & security → Device encryption, or manage-bde -on C:)',
      linux: 'encrypt the root file system with LUKS (usually a reinstall with "encrypt disk" chosen)',
    },
  },
  {
    field: 'require_firewall',
    kind: 'flag',
    subject: 'firewall_enabled',
    code: 'firewall_required',
    label: 'Require a firewall',
    risk: 25,
    legacyColumn: true,
    fix: {
      darwin: 'turn on the firewall (System Settings → Network → Firewall)',
      windows: 'turn on Windows Defender Firewall for every profile (Settings → Privacy & security → Windows Security → Firewall)',
      linux: 'enable a host firewall that drops new inbound connections (sudo ufw enable, or firewalld)',
    },
  },
  {
    field: 'require_antivirus',
    kind: 'flag',
    subject: 'antivirus_enabled',
    code: 'antivirus_required',
    label: 'Require antivirus',
    risk: 25,
    legacyColumn: true,
    fix: {
      darwin: 'install or re-enable your organisation\'s endpoint protection and let it update its definitions',
      windows: 'turn on Microsoft Defender real-time protection or your organisation\'s antivirus, and update its definitions',
      linux: 'install and run your organisation\'s endpoint protection (or ClamAV with fresh signatures)',
    },
  },
  {
    field: 'max_patch_age_days',
    kind: 'max',
    subject: 'patch_age_days',
    code: 'patch_age_exceeded',
    label: 'Maximum patch age (days)',
    risk: 15,
    legacyColumn: true,
    fix: {
      darwin: 'install the pending updates (System Settings → General → Software Update)',
      windows: 'install the pending updates (Settings → Windows Update)',
      linux: 'install the pending updates (sudo apt upgrade, sudo dnf upgrade, …)',
    },
  },
  {
    field: 'min_os_versions',
    kind: 'min_version_by_platform',
    subject: 'os_version_number',
    code: 'os_version_too_old',
    label: 'Minimum OS version per platform',
    risk: 15,
    fix: {
      darwin: 'update macOS to at least the required version (System Settings → General → Software Update)',
      windows: 'update Windows to at least the required build (Settings → Windows Update)',
      linux: 'upgrade the distribution to at least the required release',
    },
  },
  {
    field: 'min_agent_version',
    kind: 'min_version',
    subject: 'agent_version',
    code: 'agent_version_too_old',
    label: 'Minimum ztna agent version',
    risk: 10,
    fix: {
      darwin: 'update the ztna agent',
      windows: 'update the ztna agent',
      linux: 'update the ztna agent',
    },
  },
  {
    field: 'require_screen_lock',
    kind: 'flag',
    subject: 'screen_lock_enabled',
    code: 'screen_lock_required',
    label: 'Require a screen lock',
    risk: 10,
    fix: {
      darwin: 'require a password after the screen saver begins or the display is turned off (System Settings → Lock Screen)',
      windows: 'set a screen saver with "On resume, display logon screen", or a machine inactivity limit (Settings → Personalization → Lock screen)',
      linux: 'turn on automatic screen lock (GNOME: Settings → Privacy → Screen Lock; KDE: System Settings → Screen Locking)',
    },
  },
  {
    field: 'require_secure_boot',
    kind: 'flag',
    subject: 'secure_boot_enabled',
    code: 'secure_boot_required',
    label: 'Require Secure Boot',
    risk: 10,
    fix: {
      darwin: 'Macs report boot security as evidence only; exempt Macs or target this policy at other platforms',
      windows: 'turn on Secure Boot in the UEFI firmware settings',
      linux: 'turn on Secure Boot in the UEFI firmware settings (with a distribution whose shim is signed)',
    },
  },
] as const satisfies readonly RequirementSpec[];

type Requirements = (typeof REQUIREMENTS)[number];
export type RequirementField = Requirements['field'];

/** The server's own violation (SPEC 3): the latest report is older than `report_max_age_s`. */
export const REPORT_EXPIRED = { code: 'posture_report_expired', risk: 20 } as const;
/** Risk points for being quarantined. */
export const QUARANTINE_RISK = 20;

type RequirementValue<K extends RequirementKind> = K extends 'flag'
  ? boolean
  : K extends 'max'
    ? number | null
    : K extends 'min_version'
      ? string | null
      : Partial<Record<Platform, string>> | null;

/** The requirement fields of a policy, every one present (defaults filled in). */
export type PolicyRequirements = { [R in Requirements as R['field']]: RequirementValue<R['kind']> };

/** A policy as the evaluation takes it: enabled plus every requirement. */
export type EvaluablePolicy = { readonly enabled: boolean } & Readonly<PolicyRequirements>;

export function requirementDefault(kind: RequirementKind): boolean | null {
  return kind === 'flag' ? false : null;
}

/** A policy's requirement fields with their defaults, from any row-like object. */
export function requirementsOf(source: Readonly<Record<string, unknown>>): PolicyRequirements {
  const result: Record<string, unknown> = {};
  for (const requirement of REQUIREMENTS) {
    const value = Object.hasOwn(source, requirement.field) ? source[requirement.field] : undefined;
    result[requirement.field] = value === undefined ? requirementDefault(requirement.kind) : value;
  }
  return result as PolicyRequirements;
}

/** What a set of policies requires once combined: each requirement field's effective value. */
export type CombinedRequirements = PolicyRequirements;

export function combineRequirements(policies: readonly EvaluablePolicy[]): CombinedRequirements {
  const combined: Record<string, unknown> = {};
  for (const requirement of REQUIREMENTS) {
    let value: unknown = requirementDefault(requirement.kind);
    for (const policy of policies) {
      if (!policy.enabled) continue;
      const own = (policy as unknown as Record<string, unknown>)[requirement.field];
      value = combineOne(requirement.kind, value, own);
    }
    combined[requirement.field] = value;
  }
  return combined as CombinedRequirements;
}

function combineOne(kind: RequirementKind, current: unknown, next: unknown): unknown {
  switch (kind) {
    case 'flag':
      return current === true || next === true;
    case 'max':
      return typeof next === 'number' && (current === null || next < (current as number)) ? next : current;
    case 'min_version':
      return newerVersion(current as string | null, typeof next === 'string' ? next : null);
    case 'min_version_by_platform': {
      if (next === null || typeof next !== 'object') return current;
      const merged: Partial<Record<Platform, string>> = { ...((current as Partial<Record<Platform, string>> | null) ?? {}) };
      for (const platform of PLATFORMS) {
        const minimum = (next as Partial<Record<Platform, string>>)[platform];
        if (typeof minimum === 'string') merged[platform] = newerVersion(merged[platform] ?? null, minimum) ?? minimum;
      }
      return merged;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Findings

/** One violation as a value (SPEC 7.2); `violations` strings are rendered from these. */
export interface PostureFinding {
  /** The violation code without its detail (`patch_age_exceeded`). */
  readonly code: string;
  /** The report field judged (`patch_age_days`, `agent_version`, `collected_at`). */
  readonly signal: string;
  /** What the policy requires of it: `true`, or a comparison (`<= 30`, `>= 14.4`). */
  readonly required: boolean | string;
  /** What the report says (null: unknown). */
  readonly observed: boolean | number | string | null;
  /** The limit for limits and minimums (30, "14.4"); null for flags. */
  readonly limit: number | string | null;
  /** One sentence for a person. */
  readonly message: string;
  /** Grace periods (SPEC 7.3): when this violation starts to block. */
  readonly blocks_at?: string;
  /** Exemptions (SPEC 7.3): until when it is exempt. */
  readonly exempt_until?: string;
}

/** The violation string of a finding, exactly as SPEC 2 and 7.2 spell it. */
export function violationText(finding: PostureFinding): string {
  const observed = finding.observed === null ? 'unknown' : String(finding.observed);
  switch (finding.code) {
    case 'patch_age_exceeded':
      return `patch_age_exceeded (${observed} > ${String(finding.limit)} days)`;
    case 'os_version_too_old':
    case 'agent_version_too_old':
      return `${finding.code} (${observed} < ${String(finding.limit)})`;
    default:
      return finding.code;
  }
}

/** What the evaluation needs besides the signals. */
export interface EvaluationContext {
  /** `darwin` | `windows` | `linux` (the report's `platform`); other or absent: no OS minimum applies. */
  readonly platform?: string | null;
  readonly agent_version?: string | null;
}

function observedValue(subject: Subject, signals: SignalSet, context: EvaluationContext): boolean | number | string | null {
  if (subject === 'agent_version') return context.agent_version ?? null;
  return signals[subject];
}

function nounOf(subject: Subject): string {
  return subject === 'agent_version' ? 'the ztna agent version' : signalSpec(subject).noun;
}

/** Checks one requirement; the finding when it is violated, null when it holds or is not set. */
export function checkRequirement(requirement: RequirementSpec, limit: unknown, signals: SignalSet, context: EvaluationContext): PostureFinding | null {
  const observed = observedValue(requirement.subject, signals, context);
  const base = { code: requirement.code, signal: requirement.subject };
  const noun = nounOf(requirement.subject);
  switch (requirement.kind) {
    case 'flag': {
      if (limit !== true || observed === true) return null;
      const state = observed === null ? 'could not be determined (unknown fails closed)' : 'is off';
      return { ...base, required: true, observed, limit: null, message: `${capitalise(noun)} ${state}; the policy requires it` };
    }
    case 'max': {
      if (typeof limit !== 'number') return null;
      if (typeof observed === 'number' && observed <= limit) return null;
      const message =
        observed === null
          ? `${capitalise(noun)} could not be determined; the policy allows at most ${limit} days`
          : `${capitalise(noun)} is ${String(observed)} days; the policy allows at most ${limit}`;
      return { ...base, required: `<= ${limit}`, observed, limit, message };
    }
    case 'min_version':
    case 'min_version_by_platform': {
      const minimum = requirement.kind === 'min_version' ? limit : minimumFor(limit, context.platform);
      if (typeof minimum !== 'string' || !isVersion(minimum)) return null;
      const order = compareVersions(observed, minimum);
      if (order !== null && order >= 0) return null;
      const version = typeof observed === 'string' ? observed : null;
      const message =
        order === null
          ? `${capitalise(noun)} ${version === null ? 'could not be determined' : `"${version}" is not a dotted version`}; the policy requires at least ${minimum}`
          : `${capitalise(noun)} ${version} is older than the required ${minimum}`;
      return { ...base, required: `>= ${minimum}`, observed: order === null ? null : version, limit: minimum, message };
    }
  }
}

function minimumFor(limit: unknown, platform: string | null | undefined): unknown {
  if (limit === null || typeof limit !== 'object' || typeof platform !== 'string') return null;
  return Object.hasOwn(limit, platform) ? (limit as Record<string, unknown>)[platform] : null;
}

function capitalise(text: string): string {
  return text.length === 0 ? text : text[0]?.toUpperCase() + text.slice(1);
}

/** The fix hint for a violation code (or violation string) on a platform; undefined when none is known. */
export function fixFor(codeOrViolation: string, platform: string | null | undefined): string | undefined {
  const code = codeOrViolation.split(' ', 1)[0];
  const requirement = REQUIREMENTS.find((candidate) => candidate.code === code);
  if (!requirement) return undefined;
  return (PLATFORMS as readonly string[]).includes(platform ?? '') ? requirement.fix[platform as Platform] : undefined;
}
