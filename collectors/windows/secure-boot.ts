/**
 * secure_boot_enabled on Windows: %firmware_type%, Confirm-SecureBootUEFI (needs
 * Administrator) and the UEFISecureBootEnabled registry value, each recorded with its
 * error; collectors/parsers/windows-secure-boot.ts decides.
 */
import { parseWindowsSecureBoot } from '../parsers/windows-secure-boot.ts';
import { powerShellCollector } from './powershell.ts';

export const SECURE_BOOT_SCRIPT = String.raw`
$r = [ordered]@{ firmware_type = [string]$env:firmware_type }
try { $r.confirm = [bool](Confirm-SecureBootUEFI) } catch {
  $r.confirm_error = ConvertTo-ZtnaError $_
  $r.confirm_error_id = [string]$_.FullyQualifiedErrorId
  $r.confirm_exception = $_.Exception.GetType().FullName
}
try { $r.registry = [int](Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\SecureBoot\State' -Name 'UEFISecureBootEnabled').UEFISecureBootEnabled } catch { $r.registry_error = ConvertTo-ZtnaError $_ }
ConvertTo-Json -Compress -InputObject $r
`;

export const windowsSecureBootCollector = powerShellCollector('secure_boot_enabled', { script: SECURE_BOOT_SCRIPT, method: 'secure-boot' }, parseWindowsSecureBoot);
