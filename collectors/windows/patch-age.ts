/**
 * Windows patch age: whole days since Windows last installed an update (a cumulative or
 * security update, a feature update, a hotfix), not counting Defender's daily definitions.
 *
 * One PowerShell run reads the Windows Update Agent history (COM Microsoft.Update.Session,
 * no privilege needed) and, only when that fails or holds nothing but definition updates,
 * Get-HotFix. A short-lived child also isolates the WUA COM objects, which Kolide runs in
 * a subprocess for a suspected memory leak (kolide/launcher windowsupdatetable).
 * collectors/parsers/windows-update-history.ts decides.
 */
import { EXCLUDED_KBS, parseUpdateHistoryOutput } from '../parsers/windows-update-history.ts';
import { powerShellCollector } from './powershell.ts';

/** Large histories can take 10 s or more (research §4.1); stay under the 45 s collector deadline. */
const PATCH_AGE_TIMEOUT_MS = 40_000;

/**
 * Dates leave PowerShell as `ToUniversalTime().ToString('o')`, never as PS 5.1's
 * `\/Date(…)\/` or a culture-formatted string. The KB is cut from the title with a regex
 * (a KB number is not translated even when the title is). Get-HotFix's InstalledOn is a
 * script property that parses a culture-formatted InstallDate: blank rows are skipped, and
 * one that throws skips only that row.
 */
export const PATCH_AGE_SCRIPT = String.raw`
$excluded = @(__EXCLUDED__)
$result = [ordered]@{ totalCount = $null; history = $null; historyError = $null; hotfixes = $null; hotfixError = $null }
$relevant = 0
try {
  $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
  $count = [int]$searcher.GetTotalHistoryCount()
  $result.totalCount = $count
  $rows = @()
  if ($count -gt 0) {
    $rows = @($searcher.QueryHistory(0, $count) | Where-Object { $_.Operation -eq 1 -and ($_.ResultCode -eq 2 -or $_.ResultCode -eq 3) } | ForEach-Object {
      [ordered]@{ date = $_.Date.ToUniversalTime().ToString('o'); kb = ([regex]::Match([string]$_.Title, 'KB\d{6,8}')).Value; title = [string]$_.Title; resultCode = [int]$_.ResultCode }
    })
  }
  $result.history = $rows
  $relevant = @($rows | Where-Object { $excluded -notcontains $_.kb }).Count
} catch { $result.historyError = ConvertTo-ZtnaError $_ }
if ($relevant -eq 0) {
  try {
    $result.hotfixes = @(Get-HotFix | ForEach-Object {
      $hotfix = $_
      $installedOn = $null
      try { $installedOn = $hotfix.InstalledOn } catch { $installedOn = $null }
      if ($installedOn) { [ordered]@{ id = [string]$hotfix.HotFixID; installedOn = $installedOn.ToUniversalTime().ToString('o') } }
    })
  } catch { $result.hotfixError = ConvertTo-ZtnaError $_ }
}
ConvertTo-Json -Compress -Depth 4 -InputObject $result
`.replace('__EXCLUDED__', EXCLUDED_KBS.map((kb) => `'${kb}'`).join(','));

export const windowsPatchAgeCollector = powerShellCollector('patch_age_days', { script: PATCH_AGE_SCRIPT, method: 'wua:QueryHistory', timeoutMs: PATCH_AGE_TIMEOUT_MS }, (stdout, ctx) => parseUpdateHistoryOutput(stdout, ctx.now()));
