/**
 * Secrets that must never leave in text a person or a log may see: ztna keys
 * (`ztna_<kind>_<16 hex id>_<secret>`: node, auth, login-link and session keys) keep only
 * their public id, and JWTs (admin tokens) become `<token>`. Used on every server error
 * message and on everything `ztna bugreport` writes.
 */
export function redactSecrets(message: string): string {
  return message
    .replace(/\b(ztna_[a-z]+_[0-9a-f]{16})_[A-Za-z0-9_-]+/g, '$1_…')
    .replace(/\beyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, '<token>');
}
