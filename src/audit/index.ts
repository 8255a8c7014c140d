// Public entry of the audit part: the trail, actors, retention and time filters. Re-exports only.
export { apiKeyActor, cliActor, runAsActor, scopedActor, workerActor } from './actor.js'
export { auditRetentionDays, DEFAULT_AUDIT_RETENTION_DAYS, parseSince, retentionCutoff } from './retention.js'
export { type AuditDetail, type AuditRecordInput, AuditTrail, newAuditId } from './trail.js'
