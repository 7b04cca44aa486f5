/** Repository of `applications`: the RA workflow's applications (R-3.5; CPS 4.1-4.4). */
import type { Generated } from 'kysely';
import { all, first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

type ApplicationState = 'submitted' | 'approved' | 'rejected' | 'issued' | 'accepted';

/** The `applications` table (migration 3). */
export interface ApplicationsTable {
  id: Generated<number>;
  state: ApplicationState;
  ca_name: string;
  profile: string;
  csr_der: Buffer;
  applicant_organisation: string;
  applicant_contact: string;
  requested: Generated<string>;
  submitted_by: string;
  submitted_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  identification: string | null;
  issued_by: string | null;
  certificate_id: number | null;
  accepted_at: string | null;
  accepted_recorded_by: string | null;
  acceptance_note: string | null;
}

const q = sqliteQueries<{ applications: ApplicationsTable }>();

/** One application's row, or undefined. */
export function findApplicationRow(db: Db, id: number) {
  return first(db, q.selectFrom('applications').selectAll().where('id', '=', id));
}

/** The application that submitted exactly these CSR bytes, if any (issue 15.7: a CSR on file proves nothing). */
export function applicationOfCsr(db: Db, csrDer: Buffer): number | undefined {
  return first(db, q.selectFrom('applications').select('id').where('csr_der', '=', csrDer))?.id;
}

/** Every application's id, in submission order. */
export function listApplicationIds(db: Db): number[] {
  return all(db, q.selectFrom('applications').select('id').orderBy('id')).map((r) => r.id);
}

/** A submitted application, in the transaction with its audit event; returns its id. */
export function insertApplication(
  db: Db,
  x: {
    caName: string;
    profile: string;
    csrDer: Buffer;
    applicantOrganisation: string;
    applicantContact: string;
    requested: string;
    submittedBy: string;
    submittedAt: string;
  },
): number {
  return run(
    db,
    q.insertInto('applications').values({
      state: 'submitted',
      ca_name: x.caName,
      profile: x.profile,
      csr_der: x.csrDer,
      applicant_organisation: x.applicantOrganisation,
      applicant_contact: x.applicantContact,
      requested: x.requested,
      submitted_by: x.submittedBy,
      submitted_at: x.submittedAt,
    }),
  ).lastInsertRowid;
}

/** A submitted application approved or rejected (CPS 4.2), with how the applicant was identified. */
export function decideApplicationRow(
  db: Db,
  id: number,
  x: {
    state: 'approved' | 'rejected';
    decidedBy: string;
    decidedAt: string;
    reason: string | null;
    identification: string | null;
  },
): void {
  run(
    db,
    q
      .updateTable('applications')
      .set({
        state: x.state,
        decided_by: x.decidedBy,
        decided_at: x.decidedAt,
        decision_reason: x.reason,
        identification: x.identification,
      })
      .where('id', '=', id)
      .where('state', '=', 'submitted'),
  );
}

/** An approved application is issued (in the issuance's transaction); false if it was no longer approved. */
export function markApplicationIssued(db: Db, id: number, issuedBy: string, certificateId: number): boolean {
  return (
    run(
      db,
      q
        .updateTable('applications')
        .set({ state: 'issued', issued_by: issuedBy, certificate_id: certificateId })
        .where('id', '=', id)
        .where('state', '=', 'approved'),
    ).changes === 1
  );
}

/** The subscriber accepted the issued certificate (CPS 4.4). */
export function markApplicationAccepted(
  db: Db,
  id: number,
  x: { acceptedAt: string; recordedBy: string; note: string | null },
): void {
  run(
    db,
    q
      .updateTable('applications')
      .set({
        state: 'accepted',
        accepted_at: x.acceptedAt,
        accepted_recorded_by: x.recordedBy,
        acceptance_note: x.note,
      })
      .where('id', '=', id)
      .where('state', '=', 'issued'),
  );
}
