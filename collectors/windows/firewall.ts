/**
 * Windows host firewall: is Windows Defender Firewall on for every active profile, or
 * does Security Center report a third-party firewall that is on?
 *
 * One PowerShell run: FwPolicy2 (COM, no privilege) plus the mpssvc service state; the
 * NetSecurity cmdlets only when the COM object fails; Security Center's FirewallProduct
 * list always (it is empty on most hosts, and absent on Server SKUs).
 * collectors/parsers/windows-firewall.ts decides.
 */
import { parseFirewallOutput } from '../parsers/windows-firewall.ts';
import { powerShellCollector } from './powershell.ts';

/**
 * FirewallEnabled is a parameterized COM property: `$policy.FirewallEnabled(2)` reads the
 * private profile. `[string]` casts keep enums (service status, GpoBoolean, network
 * category) as names instead of PS 5.1's integers.
 */
export const FIREWALL_SCRIPT = String.raw`
$result = [ordered]@{
  policy = $null; policyError = $null; service = $null; serviceError = $null
  profiles = $null; profilesError = $null; networkCategories = $null; products = $null; productsError = $null
}
try {
  $policy = New-Object -ComObject HNetCfg.FwPolicy2
  $result.policy = [ordered]@{
    current = [int]$policy.CurrentProfileTypes
    domain = [bool]$policy.FirewallEnabled(1)
    private = [bool]$policy.FirewallEnabled(2)
    public = [bool]$policy.FirewallEnabled(4)
  }
} catch { $result.policyError = ConvertTo-ZtnaError $_ }
try { $result.service = [string](Get-Service -Name mpssvc).Status } catch { $result.serviceError = ConvertTo-ZtnaError $_ }
if ($null -eq $result.policy) {
  try {
    $result.profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object { [ordered]@{ name = [string]$_.Name; enabled = [string]$_.Enabled } })
    $result.networkCategories = @(Get-NetConnectionProfile -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.NetworkCategory })
  } catch { $result.profilesError = ConvertTo-ZtnaError $_ }
}
try {
  $result.products = @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName FirewallProduct | ForEach-Object { [ordered]@{ name = [string]$_.displayName; productState = [int64]$_.productState } })
} catch { $result.productsError = ConvertTo-ZtnaError $_ }
ConvertTo-Json -Compress -Depth 4 -InputObject $result
`;

export const windowsFirewallCollector = powerShellCollector('firewall_enabled', { script: FIREWALL_SCRIPT, method: 'com:HNetCfg.FwPolicy2' }, parseFirewallOutput);
