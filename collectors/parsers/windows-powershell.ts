/**
 * Reading the JSON that ztna's Windows PowerShell 5.1 scripts print (collectors/windows/).
 *
 * Every Windows probe is a script whose last act is one `ConvertTo-Json -Compress` line,
 * so the parsers read numbers and enums, never localized prose (research §0.4: netsh,
 * manage-bde and Get-HotFix date strings are translated). The script's outer catch prints
 * `{"error": message, "hresult": int}` instead; `readScriptError` recognises that shape.
 *
 * PS 5.1 ConvertTo-Json quirks the helpers absorb (research §0.2):
 * - A one-element array sent through the pipeline becomes the element itself
 *   (PowerShell/PowerShell#11857, Badgerati/Pode#845), so `asArray` wraps a lone object.
 * - An array that ends up [psobject]-wrapped serializes as `{"value": [...], "Count": n}`
 *   because of the ETS `Count` alias on System.Array (PowerShell/PowerShell#3222, #5579);
 *   `asArray` unwraps it. The scripts also run `Remove-TypeData System.Array`.
 * - Enums serialize as integers unless cast with `[string]`, and DateTime as
 *   `"\/Date(ms)\/"`; the scripts emit `[string]` enums and `ToString('o')` dates, and
 *   `asBool` accepts the strings "True"/"False" that a `[string]` cast of a bool gives.
 * Nothing here throws: wrong types inside valid JSON read as null.
 */
import type { Finding, ReasonCode } from '../types.ts';
import { unknown } from '../types.ts';

/** WMI/COM status codes the Windows collectors decide on (unsigned, as Microsoft writes them). */
export const HRESULT = {
  /** WBEM_E_ACCESS_DENIED: the namespace's security refused us (MicrosoftVolumeEncryption needs Administrator). */
  wbemAccessDenied: 0x80041003,
  /** WBEM_E_INVALID_NAMESPACE: `root/SecurityCenter2` on Server SKUs (amidaware/tacticalrmm#1202),
   *  MicrosoftVolumeEncryption without the BitLocker optional component. */
  wbemInvalidNamespace: 0x8004100e,
  /** WBEM_E_INVALID_CLASS: the namespace exists but the class does not. */
  wbemInvalidClass: 0x80041010,
  /** E_ACCESSDENIED from COM or Win32. */
  accessDenied: 0x80070005,
  /** REGDB_E_CLASSNOTREG: the COM class is missing (WSC on Server, es3n1n/defendnot#17). */
  classNotRegistered: 0x80040154,
  /** Defender's "A general error occurred…": its service is not running, typically because
   *  another antivirus disabled it (scipag/HardeningKitty#52, with CrowdStrike installed). */
  defenderNotRunning: 0x800106ba,
} as const;

export type ParsedJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: Finding<never> };

/**
 * The script's stdout as JSON. PowerShell may add a UTF-8 BOM and CRLF; anything else
 * before the JSON (a stray warning line) is skipped by falling back to the last line.
 */
export function parsePowerShellJson(text: string, method: string): ParsedJson {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return { ok: false, problem: unknown('empty_output', method, 'PowerShell printed nothing') };
  const attempt = tryParse(trimmed) ?? tryParse(trimmed.split(/\r?\n/).at(-1)?.trim() ?? '');
  if (attempt === undefined) {
    return {
      ok: false,
      problem: unknown('unparsed_output', method, `PowerShell output is not JSON: "${excerpt(trimmed)}"`),
    };
  }
  return { ok: true, value: attempt.value };
}

function tryParse(text: string): { value: unknown } | undefined {
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

export interface ScriptError {
  readonly message: string;
  /** Unsigned 32-bit HRESULT, or null when the script did not report one. */
  readonly hresult: number | null;
}

/** `{"error": "...", "hresult": -2147217394}` (from the script's catch blocks), else null. */
export function readScriptError(value: unknown): ScriptError | null {
  const record = asRecord(value);
  if (record === null || typeof record.error !== 'string') return null;
  const raw = asInt(record.hresult);
  return { message: record.error.trim(), hresult: raw === null ? null : raw >>> 0 };
}

/** `0x8004100E`, the spelling in Microsoft's docs and in FullyQualifiedErrorId. */
export function hresultHex(hresult: number | null): string {
  return hresult === null ? 'no HRESULT' : `0x${(hresult >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

export function describeError(error: ScriptError): string {
  return `${error.message || 'no message'} (${hresultHex(error.hresult)})`;
}

export function isAccessDenied(error: ScriptError): boolean {
  return error.hresult === HRESULT.wbemAccessDenied || error.hresult === HRESULT.accessDenied;
}

/** The finding for a script whose outer catch fired: nothing inside it could be read. */
/**
 * The pipeline every Windows probe's output goes through: JSON (with PS 5.1's quirks),
 * then the script's own caught error, then the probe-specific reader; `decide` sees
 * only a well-formed probe. `what` names the probe in the unexpected-shape message.
 */
export function parseProbeOutput<Probe, T>(
  text: string,
  method: string,
  what: string,
  read: (value: unknown) => Probe | null,
  decide: (probe: Probe) => Finding<T>,
): Finding<T> {
  const parsed = parsePowerShellJson(text, method);
  if (!parsed.ok) return parsed.problem;
  const failure = readScriptError(parsed.value);
  if (failure !== null) return scriptFailure(failure, method);
  const probe = read(parsed.value);
  if (probe === null) return unknown('unparsed_output', method, `the ${what} probe printed JSON of an unexpected shape`);
  return decide(probe);
}

export function scriptFailure(error: ScriptError, method: string): Finding<never> {
  if (isAccessDenied(error)) {
    return unknown('needs_privilege', method, `access denied: ${describeError(error)}; Administrator rights may be needed`);
  }
  return unknown('command_failed', method, `the PowerShell probe failed: ${describeError(error)}`);
}

/** A known value that still carries a reason code (false `suspended`, true `edr_service`). */
export function withReason<T>(finding: Finding<T>, reason: ReasonCode): Finding<T> {
  return { ...finding, reason };
}

export function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** Arrays as PS 5.1 may print them: a real array, a lone element, `{value, Count}`, or null (none). */
export function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined) return [];
  const record = asRecord(value);
  if (record !== null && Array.isArray(record.value) && 'Count' in record && Object.keys(record).length === 2) {
    return record.value;
  }
  return [value];
}

/** An integer, from a JSON number or a decimal string (WMI uint64 values may be strings). */
export function asInt(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number.parseInt(value.trim(), 10);
  return null;
}

export function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** true/false, or the exact strings "True"/"False" (case-insensitive) a `[string]` cast prints. */
export function asBool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}

/** An ISO 8601 instant as the scripts print it (`ToString('o')`), or null. */
export function asInstant(value: unknown): Date | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function excerpt(text: string, length = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}
