/** `/api/db/audit_log`: what happened, written by the server only (domain/audit.ts). */
import type { TableRules } from './rules.ts';

export const auditLogRules: TableRules = {
  create: 'audit_log is read-only: it is written by the server',
  update: 'audit_log is read-only',
  remove: 'audit_log rows cannot be deleted',
};
