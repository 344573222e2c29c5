/**
 * Runtime validation of the posture model's wire shapes (SPEC section 2), kept apart
 * from the evaluation function so that code which only evaluates (the CLI's local
 * status, the hot path of a report) does not load zod. Types are inferred from these
 * schemas; src/shared/posture.ts re-exports them.
 */
import { z } from 'zod';

const triState = z.boolean().nullable();

/** The five signals every report carries (keys required; `null` = could not tell). */
export const postureSignalsSchema = z.object({
  os_version: z.string().min(1).max(256),
  disk_encrypted: triState,
  firewall_enabled: triState,
  antivirus_enabled: triState,
  patch_age_days: z.number().int().min(0).max(1_000_000).nullable(),
});

/** A posture report: the signals plus optional extras. Unknown keys are stripped. */
export const postureReportSchema = postureSignalsSchema.extend({
  platform: z.string().max(32).optional(),
  arch: z.string().max(32).optional(),
  hostname: z.string().max(255).optional(),
  agent_version: z.string().max(64).optional(),
  collected_at: z.iso.datetime({ offset: true }).optional(),
  evidence: z.record(z.string(), z.unknown()).optional(),
});

export type PostureSignals = z.infer<typeof postureSignalsSchema>;
export type PostureReport = z.infer<typeof postureReportSchema>;

/**
 * A posture policy. Requirements default to "not required" and `enabled` to true, so a
 * policy file may name only what it requires; unknown keys are rejected so that a typo
 * such as `require_firewal` is an error instead of a silently weaker policy. The row
 * columns the server adds (`id`, `org_id`, `name`, timestamps) are accepted, so a policy
 * exported from the server can be used as a policy file as it is.
 */
export const posturePolicySchema = z.strictObject({
  id: z.string().optional(),
  org_id: z.string().optional(),
  name: z.string().max(200).optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  enabled: z.boolean().default(true),
  require_disk_encryption: z.boolean().default(false),
  require_firewall: z.boolean().default(false),
  require_antivirus: z.boolean().default(false),
  max_patch_age_days: z.number().int().min(0).max(1_000_000).nullable().default(null),
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
