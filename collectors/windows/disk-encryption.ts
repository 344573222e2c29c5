/**
 * Windows disk encryption: is the system drive (`$env:SystemDrive`) protected by BitLocker?
 *
 * One PowerShell run asks Win32_EncryptableVolume's methods (Administrator only) and, in
 * the same run, Explorer's BitLocker property (any user), so a non-elevated agent still
 * gets a low-confidence answer. collectors/parsers/windows-bitlocker.ts decides.
 */
import { parseBitLockerOutput } from '../parsers/windows-bitlocker.ts';
import { powerShellCollector } from './powershell.ts';

/**
 * `cim` holds the METHOD results (GetProtectionStatus / GetConversionStatus), never the
 * cached ProtectionStatus property (osquery PR #8931). A CIM failure is caught and kept
 * in `cimError`, so the shell property is read either way.
 */
export const BITLOCKER_SCRIPT = String.raw`
$drive = $env:SystemDrive
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$result = [ordered]@{
  drive = $drive
  elevated = ([Security.Principal.WindowsPrincipal]$identity).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
  cim = $null; cimError = $null; shell = $null; shellError = $null
}
try {
  $volume = Get-CimInstance -Namespace 'root/CIMV2/Security/MicrosoftVolumeEncryption' -ClassName Win32_EncryptableVolume -Filter "DriveLetter='$drive'"
  if ($null -eq $volume) {
    $result.cim = [ordered]@{ found = $false }
  } else {
    $protection = Invoke-CimMethod -InputObject $volume -MethodName GetProtectionStatus
    $conversion = Invoke-CimMethod -InputObject $volume -MethodName GetConversionStatus
    $result.cim = [ordered]@{
      found = $true
      protectionStatus = [int]$protection.ProtectionStatus
      protectionReturn = [int64]$protection.ReturnValue
      conversionStatus = [int]$conversion.ConversionStatus
      conversionReturn = [int64]$conversion.ReturnValue
      encryptionPercentage = [int]$conversion.EncryptionPercentage
      encryptionMethod = [int]$volume.EncryptionMethod
    }
  }
} catch { $result.cimError = ConvertTo-ZtnaError $_ }
try {
  $shellValue = (New-Object -ComObject Shell.Application).NameSpace($drive).Self.ExtendedProperty('System.Volume.BitLockerProtection')
  if ($null -ne $shellValue) { $result.shell = [int]$shellValue }
} catch { $result.shellError = ConvertTo-ZtnaError $_ }
ConvertTo-Json -Compress -Depth 4 -InputObject $result
`;

export const windowsDiskEncryptionCollector = powerShellCollector('disk_encrypted', { script: BITLOCKER_SCRIPT, method: 'wmi:Win32_EncryptableVolume' }, (stdout, ctx) => parseBitLockerOutput(stdout, ctx.env('SystemDrive') ?? 'C:'));
