/**
 * screen_lock_enabled on Windows: the machine inactivity limit, the MDM DeviceLock limit and
 * the console user's screen saver (user policy over user setting). Running as SYSTEM (the
 * service), the console user is the owner of explorer.exe and their hive is HKU\<sid>;
 * running as a user, it is HKCU. A missing key is "not set", never an error.
 * collectors/parsers/windows-screen-lock.ts decides.
 */
import { parseWindowsScreenLock } from '../parsers/windows-screen-lock.ts';
import { powerShellCollector } from './powershell.ts';

export const SCREEN_LOCK_SCRIPT = String.raw`
function Get-ZtnaValues($path, $names) {
  $o = [ordered]@{}
  try {
    $item = Get-ItemProperty -Path $path
    foreach ($n in $names) { if ($null -ne $item.$n) { $o[$n] = [string]$item.$n } }
  } catch [System.Management.Automation.ItemNotFoundException] { $o['missing'] = $true } catch { $o['error'] = ConvertTo-ZtnaError $_ }
  $o
}
$r = [ordered]@{}
$r.machine = Get-ZtnaValues 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' @('InactivityTimeoutSecs')
$r.mdm = Get-ZtnaValues 'HKLM:\SOFTWARE\Microsoft\PolicyManager\current\device\DeviceLock' @('MaxInactivityTimeDeviceLock')
$names = @('ScreenSaveActive', 'ScreenSaverIsSecure', 'ScreenSaveTimeOut', 'SCRNSAVE.EXE')
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$r.system = [bool]$identity.IsSystem
$root = $null
if ($identity.IsSystem) {
  try {
    $explorer = Get-CimInstance -ClassName Win32_Process -Filter "Name='explorer.exe'" | Select-Object -First 1
    if ($explorer) { $r.user_sid = [string](Invoke-CimMethod -InputObject $explorer -MethodName GetOwnerSid).Sid }
  } catch { $r.owner_error = ConvertTo-ZtnaError $_ }
  if ($r.user_sid) { $root = "Registry::HKEY_USERS\$($r.user_sid)" }
} else {
  $r.user_sid = [string]$identity.User.Value
  $root = 'HKCU:'
}
if ($root) {
  $r.user_policy = Get-ZtnaValues "$root\Software\Policies\Microsoft\Windows\Control Panel\Desktop" $names
  $r.user = Get-ZtnaValues "$root\Control Panel\Desktop" $names
}
ConvertTo-Json -Compress -Depth 4 -InputObject $r
`;

export const windowsScreenLockCollector = powerShellCollector('screen_lock_enabled', { script: SCREEN_LOCK_SCRIPT, method: 'registry:screen-lock' }, parseWindowsScreenLock);
