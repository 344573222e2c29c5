/**
 * os_version_number on Windows ("10.0.26100.2314") from the same registry probe as
 * os_version (collectors/windows/os-version.ts); collectors/parsers/windows-os-version.ts
 * builds the number.
 */
import { windowsVersionNumber } from '../parsers/windows-os-version.ts';
import { OS_VERSION_SCRIPT } from './os-version.ts';
import { powerShellCollector } from './powershell.ts';

export const windowsOsVersionNumberCollector = powerShellCollector('os_version_number', { script: OS_VERSION_SCRIPT, method: 'registry:CurrentVersion' }, windowsVersionNumber);
