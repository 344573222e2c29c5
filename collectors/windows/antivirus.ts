/**
 * Windows antivirus / EDR: is some anti-malware product actively protecting the host?
 *
 * One PowerShell run asks Security Center (client SKUs), Microsoft Defender's own status
 * (the only source on Server SKUs, where Security Center does not exist), the Defender
 * passive-mode policy, and the services of known EDR agents. No probe needs Administrator.
 * collectors/parsers/windows-antivirus.ts decides.
 */
import { EDR_SERVICES, parseAntivirusOutput } from '../parsers/windows-antivirus.ts';
import { powerShellCollector } from './powershell.ts';

const serviceNames = Object.keys(EDR_SERVICES)
  .map((name) => `'${name}'`)
  .join(',');

/**
 * Get-MpComputerStatus is looked up first: a Server without the Defender feature has no
 * such cmdlet, which is an answer ("not installed"), not a failure. Enums and dates are
 * cast (`[string]` AMRunningMode, ISO signature date) so PS 5.1 prints no integers or
 * `\/Date(…)\/` strings. `Get-Service -ErrorAction SilentlyContinue` skips absent names.
 */
export const ANTIVIRUS_SCRIPT = String.raw`
$result = [ordered]@{
  wsc = $null; wscError = $null; defender = $null; defenderError = $null
  passiveModePolicy = $null; services = $null; servicesError = $null
}
try {
  $result.wsc = @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | ForEach-Object {
    # An uninstalled product's entry outlives its program: say whether the program is there
    # (a file path only; Defender's is a windowsdefender:// URI).
    $exe = [Environment]::ExpandEnvironmentVariables([string]$_.pathToSignedProductExe)
    $exists = $null
    if ($exe -match '^[A-Za-z]:\\') { $exists = [bool](Test-Path -LiteralPath $exe -PathType Leaf) }
    [ordered]@{ name = [string]$_.displayName; productState = [int64]$_.productState; exe = $exe; exeExists = $exists }
  })
} catch { $result.wscError = ConvertTo-ZtnaError $_ }
if (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue) {
  try {
    $status = Get-MpComputerStatus
    $signatureUpdated = $null
    if ($status.AntivirusSignatureLastUpdated) { $signatureUpdated = $status.AntivirusSignatureLastUpdated.ToUniversalTime().ToString('o') }
    $result.defender = [ordered]@{
      installed = $true
      amRunningMode = [string]$status.AMRunningMode
      amServiceEnabled = [bool]$status.AMServiceEnabled
      antivirusEnabled = [bool]$status.AntivirusEnabled
      realTimeProtectionEnabled = [bool]$status.RealTimeProtectionEnabled
      signatureAge = [int64]$status.AntivirusSignatureAge
      signatureUpdated = $signatureUpdated
    }
  } catch { $result.defenderError = ConvertTo-ZtnaError $_ }
} else {
  $result.defender = [ordered]@{ installed = $false }
}
$atp = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows Advanced Threat Protection' -ErrorAction SilentlyContinue
$result.passiveModePolicy = [ordered]@{ forceDefenderPassiveMode = $atp.ForceDefenderPassiveMode; forcePassiveMode = $atp.ForcePassiveMode }
try {
  $result.services = @(Get-Service -Name @(__SERVICES__) -ErrorAction SilentlyContinue | ForEach-Object { [ordered]@{ name = [string]$_.Name; status = [string]$_.Status } })
} catch { $result.servicesError = ConvertTo-ZtnaError $_ }
ConvertTo-Json -Compress -Depth 4 -InputObject $result
`.replace('__SERVICES__', serviceNames);

export const windowsAntivirusCollector = powerShellCollector('antivirus_enabled', { script: ANTIVIRUS_SCRIPT, method: 'wsc:AntiVirusProduct' }, parseAntivirusOutput);
