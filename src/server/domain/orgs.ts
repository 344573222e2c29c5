/**
 * Organisations: created by `ztna-server bootstrap` with default settings (enforcement
 * disabled), a peers_version counter, and the default ACL rule allowing everything
 * inside the org, which an admin may delete (SPEC section 4).
 */
import { randomUUID } from 'node:crypto';
import { eq } from '../store/query.ts';
import type { Store } from '../store/store.ts';
import type { RowOf } from '../store/tables.ts';
import { DEFAULT_SETTINGS } from './settings.ts';

export const DEFAULT_ACL_RULE = { name: 'default-allow-all', priority: 1000, action: 'allow', src: '*', dst: '*', ports: '*' } as const;

export async function findOrCreateOrg(store: Store, name: string, now: Date): Promise<{ org: RowOf<'orgs'>; created: boolean }> {
  return store.transaction(async (tx) => {
    const existing = await tx.selectOne('orgs', [eq('name', name)]);
    if (existing) return { org: existing, created: false };
    const at = now.toISOString();
    const org = await tx.insert('orgs', { id: randomUUID(), name, created_at: at });
    await tx.insert('org_state', { org_id: org.id, peers_version: 1 });
    await tx.insert('org_settings', { org_id: org.id, ...DEFAULT_SETTINGS, updated_at: at });
    await tx.insert('acl_rules', { id: randomUUID(), org_id: org.id, ...DEFAULT_ACL_RULE, created_at: at });
    return { org, created: true };
  });
}
