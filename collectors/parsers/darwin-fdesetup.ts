/**
 * `fdesetup status` (macOS FileVault) → disk_encrypted.
 *
 * Format (research §1.1; every form below is quoted in public test fixtures):
 *   FileVault is On.
 *   FileVault is Off.
 *   FileVault is On, but needs to be restarted to finish.        (F1248/Genius tests: false)
 *   FileVault is Off, but needs to be restarted to finish.
 *   FileVault is Off, but will be enabled after the next restart.
 * optionally followed by one of
 *   Encryption in progress: Percent completed = 42               (also "percent completed = ##.##")
 *   Encryption in progress: Pending                              ("when the system is not plugged in")
 *   Decryption in progress: Percent completed = 73
 *   Deferred enablement appears to be active for user '<shortName>'.
 *   Deferred enablement appears to be active.                    (13.2.1; also alone, with no status line)
 *
 * Invariants:
 * - The first line decides; it must match one of the forms above exactly (case-insensitive,
 *   anchored). "FileVault is On, but needs to be restarted" is NOT "On": a substring test
 *   for "FileVault is On" is the bug this avoids (research §0.1 rule 2).
 * - Only a positive "Off" (or decryption, or a pending restart) produces false.
 * - Encryption in progress is reported as true with the sub-state in facts, and the
 *   server's policy can decide (Jamf treats it as unencrypted; research §1.1).
 * - Other lines (e.g. a recovery-keychain notice) do not change the answer; they are kept
 *   in facts so a new form shows up in evidence instead of being silently lost.
 */
import type { Finding } from '../types.ts';
import { known, unknown } from '../types.ts';
import { clip } from './darwin-plist.ts';

const METHOD = 'fdesetup';

const STATUS_LINE =
  /^FileVault is (On|Off)(?:\.|, but (needs to be restarted to finish|will be enabled after the next restart)\.)$/i;
const ENCRYPTING_LINE = /^Encryption in progress:\s*(.*)$/i;
const DECRYPTING_LINE = /^Decryption in progress:\s*(.*)$/i;
/** With or without ` for user '<name>'.` (macOS 13.2.1 prints it bare, and alone: see below). */
const DEFERRED_LINE = /^Deferred enablement appears to be active(?: for user\b.*|\.)$/i;
const PERCENT = /^Percent completed\s*=\s*(\d+(?:\.\d+)?)$/i;

interface Progress {
  readonly percent?: number;
  readonly state?: string;
}

export function parseFdesetupStatus(stdout: string): Finding<boolean> {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [statusLine, ...rest] = lines;
  if (statusLine === undefined) return unknown('empty_output', METHOD, '`fdesetup status` printed nothing');

  // macOS 13.2.1 can print the deferral notice with no status line at all: FileVault is
  // scheduled to turn on at the next login, so the disk is not encrypted yet.
  if (DEFERRED_LINE.test(statusLine) && rest.length === 0) {
    return { ...known(false, METHOD, `"${statusLine}" alone: FileVault enablement is deferred to the next login, so the disk is not encrypted yet`, { status: statusLine, deferred_enablement: true }), reason: 'pending_restart' };
  }
  const status = STATUS_LINE.exec(statusLine);
  if (!status) {
    return unknown('unparsed_output', METHOD, `unrecognised \`fdesetup status\` output: "${clip(statusLine)}"`);
  }
  const isOn = status[1]?.toLowerCase() === 'on';
  const qualifier = status[2]?.toLowerCase();

  let encrypting: Progress | undefined;
  let decrypting: Progress | undefined;
  let deferred = false;
  const otherLines: string[] = [];
  for (const line of rest) {
    const encryption = ENCRYPTING_LINE.exec(line);
    const decryption = DECRYPTING_LINE.exec(line);
    if (encryption) encrypting = progress(encryption[1] ?? '');
    else if (decryption) decrypting = progress(decryption[1] ?? '');
    else if (DEFERRED_LINE.test(line)) deferred = true;
    else otherLines.push(clip(line));
  }

  const facts: Record<string, unknown> = { status: statusLine };
  if (deferred) facts.deferred_enablement = true;
  if (otherLines.length > 0) facts.other_lines = otherLines;

  // Ordered: each case is a positive observation that wins over the ones below it.
  if (decrypting) {
    // Turning FileVault off: the volume is on its way to plaintext.
    return known(false, METHOD, `FileVault is being turned off (decryption in progress${describe(decrypting)})`, {
      ...facts,
      converting: 'decrypting',
      ...progressFacts(decrypting),
    });
  }
  if (qualifier === 'needs to be restarted to finish') {
    return {
      ...known(false, METHOD, `"${statusLine}": the change is not complete until the Mac restarts`, facts),
      reason: 'pending_restart',
    };
  }
  if (qualifier === 'will be enabled after the next restart') {
    return {
      ...known(false, METHOD, `"${statusLine}": FileVault is not on yet (deferred until restart)`, {
        ...facts,
        deferred_enablement: true,
      }),
      reason: 'pending_restart',
    };
  }
  if (!isOn) {
    const why = deferred ? ' (enablement is deferred to a user login)' : '';
    return known(false, METHOD, `fdesetup reports "FileVault is Off."${why}`, facts);
  }
  if (encrypting) {
    return known(true, METHOD, `fdesetup reports "FileVault is On." with encryption in progress${describe(encrypting)}`, {
      ...facts,
      converting: 'encrypting',
      ...progressFacts(encrypting),
    });
  }
  return known(true, METHOD, 'fdesetup reports "FileVault is On."', facts);
}

function progress(text: string): Progress {
  const percent = PERCENT.exec(text.trim());
  if (percent) return { percent: Number(percent[1]) };
  return text.trim() === '' ? {} : { state: clip(text.trim(), 40) };
}

function describe(progress: Progress): string {
  if (progress.percent !== undefined) return `, ${progress.percent}% done`;
  return progress.state ? `: ${progress.state}` : '';
}

function progressFacts(progress: Progress): Record<string, unknown> {
  if (progress.percent !== undefined) return { percent_completed: progress.percent };
  return progress.state ? { progress_state: progress.state } : {};
}
