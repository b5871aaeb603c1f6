/**
 * The study items' share of a verdict transaction (adapters/dynamo-file-verdicts.ts): per study, the received bytes
 * and the verified and rejected files, added in the same transaction as the file items' conditional writes, so a
 * repeated S3 event (whose file condition fails and which is written again without it) never counts twice. The
 * first verdict with a header also names the study (patient, date, description; modalities as a set), so
 * GET /sessions/{id} shows every study's card without reading its files. PHI, like the file items' headers.
 */
import { STUDY_HEADER_FIELDS } from '../core/study-header';
import type { Verdict } from '../core/model';
import { keys } from './table';

export interface CountedVerdict {
  studyInstanceUid: string;
  verdict: Verdict;
}

/** One Update per study among `verdicts`: counters added, header fields set where still absent. */
export function studyCounterUpdates(table: string, sessionId: string, verdicts: readonly CountedVerdict[]) {
  const byStudy = new Map<string, CountedVerdict[]>();
  for (const v of verdicts) byStudy.set(v.studyInstanceUid, [...(byStudy.get(v.studyInstanceUid) ?? []), v]);
  return [...byStudy].map(([studyUid, group]) => {
    const set = ['studyInstanceUid = if_not_exists(studyInstanceUid, :uid)'];
    const add = ['receivedBytes :size', 'verifiedCount :verified', 'rejectedCount :rejected'];
    const values: Record<string, unknown> = {
      ':uid': studyUid,
      ':size': group.reduce((sum, v) => sum + v.verdict.size, 0),
      ':verified': group.filter((v) => v.verdict.status === 'VERIFIED').length,
      ':rejected': group.filter((v) => v.verdict.status === 'REJECTED').length,
    };
    // Only a verified file names its study: a rejected one may belong to another.
    const headers = group.filter((v) => v.verdict.status === 'VERIFIED' && v.verdict.header).map((v) => v.verdict.header!);
    for (const field of STUDY_HEADER_FIELDS) {
      const value = headers.find((h) => h[field])?.[field];
      if (!value) continue;
      set.push(`${field} = if_not_exists(${field}, :${field})`);
      values[`:${field}`] = value;
    }
    const modalities = new Set(headers.map((h) => h.modality).filter((m): m is string => !!m));
    if (modalities.size > 0) {
      add.push('modalities :modalities');
      values[':modalities'] = modalities;
    }
    return {
      TableName: table,
      Key: keys.study(sessionId, studyUid),
      UpdateExpression: `SET ${set.join(', ')} ADD ${add.join(', ')}`,
      ExpressionAttributeValues: values,
    };
  });
}
