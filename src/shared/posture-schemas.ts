/**
 * Runtime validation of the posture model's wire shapes (SPEC 2 and 7.2), built from the
 * catalogue (signals.ts) and kept apart from the evaluation function so that code which
 * only evaluates (the CLI's local status, the hot path of a report) does not load zod.
 * Types are inferred from these schemas; src/shared/posture.ts re-exports them.
 */
import { z } from 'zod';
import type { RequirementKind, SignalKind } from './signals.ts';
import { PLATFORMS, REQUIREMENTS, SIGNALS, requirementDefault } from './signals.ts';
import { isVersion } from './versions.ts';

export const versionSchema = z
  .string()
  .max(80)
  .refine(isVersion, { message: 'expected a dotted version of numbers such as 14.4.1 or 10.0.22631' });

const SIGNAL_SCHEMAS: Record<SignalKind, z.ZodType> = {
  flag: z.boolean(),
  days: z.number().int().min(0).max(1_000_000),
  text: z.string().min(1).max(256),
  version: versionSchema,
};

/**
 * Every signal of the catalogue, each optional (absent = unknown, SPEC 7.2) and nullable
 * (null = the agent could not tell). A present value of the wrong type is an error that
 * names the field: only unknown *fields* are ignored.
 */
const signalShape = Object.fromEntries(SIGNALS.map((signal) => [signal.key, SIGNAL_SCHEMAS[signal.kind].nullable().optional()])) as {
  [S in (typeof SIGNALS)[number] as S['key']]: z.ZodOptional<z.ZodNullable<z.ZodType<S['kind'] extends 'flag' ? boolean : S['kind'] extends 'days' ? number : string>>>;
};

export const postureSignalsSchema = z.object(signalShape);

/** The extras an agent may add to a report (SPEC 2). */
const extrasShape = {
  platform: z.string().max(32).optional(),
  arch: z.string().max(32).optional(),
  hostname: z.string().max(255).optional(),
  agent_version: z.string().max(64).optional(),
  collected_at: z.iso.datetime({ offset: true }).optional(),
  evidence: z.record(z.string(), z.unknown()).optional(),
};

/** A posture report: the signals plus optional extras. Unknown keys are stripped (and listed by the server). */
export const postureReportSchema = postureSignalsSchema.extend(extrasShape);

export type PostureSignals = z.infer<typeof postureSignalsSchema>;
export type PostureReport = z.infer<typeof postureReportSchema>;

/** The fields a report may carry: what the server does not list in `ignored_fields`. */
export const REPORT_FIELDS: ReadonlySet<string> = new Set([...SIGNALS.map((signal) => signal.key), ...Object.keys(extrasShape)]);

/** Fields of `body` that the report schema does not know (SPEC 7.2 `ignored_fields`), sorted. */
export function unknownReportFields(body: Readonly<Record<string, unknown>>, also: readonly string[] = []): string[] {
  return Object.keys(body)
    .filter((key) => !REPORT_FIELDS.has(key) && !also.includes(key))
    .sort();
}

const minimumsSchema = z
  .record(z.string(), versionSchema)
  .refine((value) => Object.keys(value).every((key) => (PLATFORMS as readonly string[]).includes(key)), {
    message: `platforms are ${PLATFORMS.join(', ')}`,
  });

const REQUIREMENT_SCHEMAS: Record<RequirementKind, z.ZodType> = {
  flag: z.boolean(),
  max: z.number().int().min(0).max(1_000_000).nullable(),
  min_version: versionSchema.nullable(),
  min_version_by_platform: minimumsSchema.nullable(),
};

/** Each requirement field's schema without a default (for patches, where absent means unchanged). */
export const requirementFieldSchemas = Object.fromEntries(REQUIREMENTS.map((requirement) => [requirement.field, REQUIREMENT_SCHEMAS[requirement.kind]])) as Record<
  (typeof REQUIREMENTS)[number]['field'],
  z.ZodType
>;

const requirementShape = Object.fromEntries(
  REQUIREMENTS.map((requirement) => [requirement.field, REQUIREMENT_SCHEMAS[requirement.kind].default(requirementDefault(requirement.kind))]),
) as {
  [R in (typeof REQUIREMENTS)[number] as R['field']]: z.ZodDefault<
    z.ZodType<
      R['kind'] extends 'flag' ? boolean : R['kind'] extends 'max' ? number | null : R['kind'] extends 'min_version' ? string | null : Partial<Record<(typeof PLATFORMS)[number], string>> | null
    >
  >;
};

/**
 * A posture policy. Requirements default to "not required" and `enabled` to true, so a
 * policy file may name only what it requires; unknown keys are rejected so that a typo
 * such as `require_firewal` is an error instead of a silently weaker policy. The row
 * columns the server adds (`id`, `org_id`, `name`, timestamps) are accepted, so a policy
 * exported from the server can be used as a policy file as it is.
 */
/** An admin-granted tag (SPEC 7.1). */
export const TAG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The longest grace period a policy may give (SPEC 7.3 says only "≥ 0"): one year. */
export const MAX_GRACE_PERIOD_S = 365 * 86_400;

/**
 * A policy's targeting and grace (SPEC 7.3): `platforms` and `tags` (null: all machines),
 * `grace_period_s` (0: a violation blocks at once).
 */
export const policyScopeShape = {
  platforms: z
    .array(z.enum(PLATFORMS))
    .min(1, 'name at least one platform, or null for all')
    .refine((list) => new Set(list).size === list.length, 'each platform once')
    .nullable()
    .default(null),
  tags: z
    .array(z.string().regex(TAG, `tags are lower-case letters, digits and dashes, starting with a letter or digit (${TAG.source})`))
    .min(1, 'name at least one tag, or null for all machines')
    .max(32)
    .nullable()
    .default(null),
  grace_period_s: z.number().int().min(0).max(MAX_GRACE_PERIOD_S, `at most ${MAX_GRACE_PERIOD_S} s (a year)`).default(0),
};

export const posturePolicySchema = z.strictObject({
  id: z.string().optional(),
  org_id: z.string().optional(),
  name: z.string().max(200).optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  enabled: z.boolean().default(true),
  ...requirementShape,
  ...policyScopeShape,
});

export type PosturePolicy = z.infer<typeof posturePolicySchema>;

/** A policy file holds one policy object or a non-empty array of them. */
export const policyFileSchema = z.union([posturePolicySchema, z.array(posturePolicySchema).min(1)]);

/** Turns a zod error into one line per problem, each naming the field ("patch_age_days: …"). */
export function describeValidationError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
