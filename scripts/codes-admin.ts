/**
 * `npm run codes -- list | revoke`: the hospital's view of its codes, through the admin routes
 * (local mode's admin token, or SigV4 against a stack), printed as a table or as JSON.
 */
import type { CodeListing, RevocationResult, RevocationTarget } from '../lambdas/core/code-admin';
import { deliverySummaryText } from '../lambdas/core/delivery/delivery-summary';
import { adminAnswer, callAdmin, type CreateCommand } from './codes';

/** A code as handed out (four groups of four), a listed code id (12 hex digits), else a reference. */
export function revocationTarget(subject: string): RevocationTarget {
  if (/^[0-9A-Za-z]{4}(-?[0-9A-Za-z]{4}){3}$/.test(subject.trim())) return { code: subject.trim() };
  if (/^[0-9a-f]{12}$/.test(subject)) return { codeId: subject };
  return { reference: subject };
}

const COLUMNS = ['codeId', 'reference', 'createdAt', 'expiresAt', 'status', 'sessionStatus'] as const;

export function formatListing(codes: CodeListing[]): string {
  if (codes.length === 0) return 'No upload codes issued yet.';
  const cells = (c: CodeListing) => [...COLUMNS.map((k) => String(c[k] ?? '-')), c.delivery ? deliverySummaryText(c.delivery) : '-'];
  const rows = [['code id', 'reference', 'created', 'expires', 'status', 'session', 'delivery'], ...codes.map(cells)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Runs list or revoke; returns what to print. */
export async function runAdminCommand(command: CreateCommand): Promise<string> {
  if (command.action === 'list') {
    const answer = (await adminAnswer(await callAdmin(command, 'GET', '/admin/upload-codes'), 'list the codes')) as { codes: CodeListing[] };
    return command.json ? JSON.stringify(answer) : formatListing(answer.codes);
  }
  const target = revocationTarget(command.subject ?? '');
  const result = (await adminAnswer(await callAdmin(command, 'POST', '/admin/upload-codes/revoke', JSON.stringify(target)), 'revoke')) as RevocationResult;
  if (command.json) return JSON.stringify(result);
  return `Revoked ${result.revoked} code(s); ended ${result.sessionsEnded} open session(s) and deleted ${result.objectsDeleted} uploaded object(s).`;
}
