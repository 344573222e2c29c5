/**
 * Windows version string, e.g. "Windows 11 Pro 24H2 (build 26100.2314)", from the
 * CurrentVersion registry key (readable by any user). The registry values are not
 * localized, unlike Win32_OperatingSystem.Caption. collectors/parsers/windows-os-version.ts
 * builds the string.
 */
import { parseWindowsVersionOutput } from '../parsers/windows-os-version.ts';
import { powerShellCollector } from './powershell.ts';

export const OS_VERSION_SCRIPT = String.raw`
Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' |
  Select-Object -Property 'ProductName', 'DisplayVersion', 'ReleaseId', 'CurrentBuild', 'UBR', 'EditionID', 'InstallationType', 'CurrentMajorVersionNumber', 'CurrentMinorVersionNumber', 'CurrentVersion' |
  ConvertTo-Json -Compress
`;

export const windowsOsVersionCollector = powerShellCollector('os_version', { script: OS_VERSION_SCRIPT, method: 'registry:CurrentVersion' }, parseWindowsVersionOutput);
