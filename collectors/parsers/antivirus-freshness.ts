/**
 * One staleness rule for every antivirus engine that exposes how old its signatures are:
 * an engine whose signatures are older than MAX_SIGNATURE_AGE_DAYS is present but not
 * protecting (it cannot recognise anything published since), and so is one that says
 * itself that its definitions are out of date. Applied to ClamAV (signature database
 * mtime), Microsoft Defender on Windows (`AntivirusSignatureAge`), Windows Security
 * Center products (the "out of date" bit of productState) and Defender for Endpoint on
 * macOS and Linux (`definitionsStatus`, `definitionsUpdatedMinutesAgo`). Each says which
 * in its evidence.
 *
 * 7 days is Defender's own default for "security intelligence is considered out of date"
 * (the AV/AS signature due interval policy) and what freshclam, checking several times a
 * day, never approaches on a connected host.
 */
export const MAX_SIGNATURE_AGE_DAYS = 7;

/**
 * Signature ages at or above this are sentinels, not ages: Get-MpComputerStatus prints
 * 65535 or 4294967295 (with an empty AntivirusSignatureLastUpdated) when signatures were
 * never loaded — read as "never updated".
 */
const SENTINEL_AGE_DAYS = 65_535;

/** Why signatures this old are not protection, or null when they are fresh (or the age is unknown). */
export function signatureAgeProblem(ageDays: number | null): string | null {
  if (ageDays === null || !Number.isFinite(ageDays) || ageDays < 0) return null;
  if (ageDays >= SENTINEL_AGE_DAYS) return `signatures were never updated (age reported as ${ageDays})`;
  if (ageDays > MAX_SIGNATURE_AGE_DAYS) return `signatures are ${ageDays} days old (more than ${MAX_SIGNATURE_AGE_DAYS})`;
  return null;
}
