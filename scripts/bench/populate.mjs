// Fills a fresh data directory for scripts/bench-server directly through the store (one
// transaction), so 100,000 machines take seconds instead of 100,000 enrollments.
//
// One org ("default", so `ztna-server bootstrap` finds it) with `count` machines, each with
// a node key and a stored posture report consistent with the strict policy below under
// enforce mode — the state a settled deployment is in, so the load phases measure the
// steady state (no transition per request) unless they set out to cause one:
//
//   i odd        "bad":   disk not encrypted → quarantined (reason posture), risk 50
//   i % 4 == 0   "good":  everything on, patched 3 days ago → online, risk 0
//   i % 4 == 2   "aging": everything on, patched 14 days ago → online (≤ 30 days), risk 0;
//                         these fail when the policy is tightened to 7 days (re-evaluation)
//
// The policy itself and the enforce mode are set later through the admin API, as an
// admin would; the population is already consistent with them, so enabling enforce
// changes nothing.
import { randomUUID } from 'node:crypto';
import { generateKey } from '../../src/server/auth/keys.ts';
import { findOrCreateOrg } from '../../src/server/domain/orgs.ts';
import { riskScore } from '../../src/server/domain/risk.ts';
import { openSqliteStore } from '../../src/server/store/sqlite/sqlite-store.ts';
import { evaluatePosture } from '../../src/shared/posture.ts';

export const OS_VERSION = 'Ubuntu 24.04.1 LTS (6.8.0-45-generic)';

/** The policy POSTed before the report runs ("strict": everything required, 30 days). */
export const STRICT_POLICY = {
  name: 'bench strict',
  enabled: true,
  require_disk_encryption: true,
  require_firewall: true,
  require_antivirus: true,
  max_patch_age_days: 30,
};

/** The change whose re-evaluation is timed: 30 → 7 days quarantines every "aging" machine. */
export const TIGHTENED = { max_patch_age_days: 7 };

export function machineClass(i) {
  return i % 2 === 1 ? 'bad' : i % 4 === 0 ? 'good' : 'aging';
}

/** The signals machine i reports (and has stored). */
export function signalsOf(i) {
  const kind = machineClass(i);
  return {
    os_version: OS_VERSION,
    disk_encrypted: kind !== 'bad',
    firewall_enabled: true,
    antivirus_enabled: true,
    patch_age_days: kind === 'aging' ? 14 : 3,
  };
}

/** A failing variant of a good machine's report (the realtime phase quarantines with it). */
export function failingSignalsOf(i) {
  return { ...signalsOf(i), disk_encrypted: false };
}

/**
 * Creates the org and `count` machines with reports under `dataDir` (which must be new).
 * Returns the org id, every node key (index = machine number) and the machine ids.
 */
export async function populate(dataDir, count) {
  const store = openSqliteStore({ dataDir });
  const keys = new Array(count);
  const ids = new Array(count);
  try {
    const now = new Date();
    const at = now.toISOString();
    const { org } = await findOrCreateOrg(store, 'default', now);
    const orgId = String(org.id);
    // Keys and ids are generated up front and inserted in ascending order of every indexed
    // column (random UUIDs and key ids would make each insert land on a random B-tree page:
    // 32 s instead of a few for 100,000 machines on SQLite's default 2 MB page cache). The
    // trees end up the same depth; the load phases visit machines in a scattered order.
    const nodes = Array.from({ length: count }, () => generateKey('node')).sort((a, b) => (a.id < b.id ? -1 : 1));
    const machineIds = Array.from({ length: count }, () => randomUUID()).sort();
    const reportIds = Array.from({ length: count }, () => randomUUID()).sort();
    await store.transaction(async (tx) => {
      for (let i = 0; i < count; i++) {
        const node = nodes[i];
        const signals = signalsOf(i);
        const verdict = evaluatePosture(signals, [STRICT_POLICY]);
        const quarantined = !verdict.compliant;
        const id = machineIds[i];
        keys[i] = node.key;
        ids[i] = id;
        await tx.insert('machines', {
          id,
          org_id: orgId,
          hostname: `bench-${String(i).padStart(6, '0')}`,
          os: 'linux',
          os_version: OS_VERSION,
          arch: 'x64',
          agent_version: '0.1.0',
          tags: ['bench'],
          status: quarantined ? 'quarantined' : 'online',
          quarantine_reason: quarantined ? 'posture' : null,
          last_seen: at,
          risk_score: riskScore(verdict.violations, quarantined),
          posture_exempt: false,
          created_at: at,
          node_key_id: node.id,
          node_key_hash: node.hash,
        });
        await tx.insert('posture_reports', {
          id: reportIds[i],
          machine_id: id,
          org_id: orgId,
          ...signals,
          compliant: verdict.compliant,
          violations: verdict.violations,
          mode: 'enforce',
          reported_at: at,
          extras: null,
        });
      }
    });
    return { orgId, keys, ids };
  } finally {
    await store.close();
  }
}
