/**
 * `npm run codes -- audit <code | code id | reference | YYYY-MM-DD>`: the audit trail of a code (every
 * code issued with a reference) or a day's failed redemptions, through the admin route. A code typed
 * in full is turned into its code id here: the code itself never travels.
 */
import { codeIdOf } from '../lambdas/core/code-admin';
import type { AuditEntry, AuditQuery } from '../lambdas/core/audit';
import { normalizeUploadCode, uploadCodeHash } from '../lambdas/core/codes';
import { Sha256SecretHasher } from '../lambdas/adapters/node-secret-hasher';
import { adminAnswer, callAdmin, type CreateCommand } from './codes';

export function auditQuery(subject: string): AuditQuery {
  const trimmed = subject.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) return { securityDay: trimmed };
  if (/^[0-9a-f]{12}$/.test(trimmed)) return { codeId: trimmed };
  const code = /^[0-9A-Za-z]{4}(-?[0-9A-Za-z]{4}){3}$/.test(trimmed) ? normalizeUploadCode(trimmed) : null;
  if (code) return { codeId: codeIdOf(uploadCodeHash(new Sha256SecretHasher(), code)) };
  return { reference: subject };
}

const COLUMNS: [string, (r: AuditEntry) => string][] = [
  ['time', (r) => r.at],
  ['event', (r) => r.event],
  ['actor', (r) => r.actor],
  ['outcome', (r) => r.outcome],
  ['code id', (r) => r.codeId ?? '-'],
  ['reference', (r) => r.reference ?? '-'],
  ['session', (r) => r.sessionId ?? '-'],
  ['client', (r) => r.clientAddressHash?.slice(0, 12) ?? '-'],
  ['details', details],
];

function details(r: AuditEntry): string {
  const parts: string[] = [];
  if (r.files !== undefined) parts.push(`files=${r.files}`);
  if (r.bytes !== undefined) parts.push(`bytes=${r.bytes}`);
  if (r.verified !== undefined) parts.push(`verified=${r.verified}`);
  if (r.rejected !== undefined) parts.push(`rejected=${r.rejected}`);
  if (r.reasons?.length) parts.push(`reasons=${r.reasons.join(',')}`);
  if (r.studyInstanceUid) parts.push(`study=${r.studyInstanceUid}`);
  if (r.instances !== undefined) parts.push(`instances=${r.instances}`);
  if (r.target) parts.push(`target=${r.target}`);
  return parts.join(' ') || '-';
}

export function formatAuditTrail(records: AuditEntry[]): string {
  if (records.length === 0) return 'No audit records for that.';
  const rows = [COLUMNS.map(([title]) => title), ...records.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function runAuditCommand(command: CreateCommand): Promise<string> {
  const query = new URLSearchParams(auditQuery(command.subject ?? '') as Record<string, string>);
  const answer = (await adminAnswer(await callAdmin(command, 'GET', `/admin/audit?${query.toString()}`), 'read the audit trail')) as { records: AuditEntry[] };
  return command.json ? JSON.stringify(answer) : formatAuditTrail(answer.records);
}
