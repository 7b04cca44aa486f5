/**
 * The notice of a CA's termination (CPS 5.8): recorded by the Person Responsible at least
 * three months ahead; termination.ts refuses to terminate without it.
 */
import { CaError } from '../errors.ts';
import { addUtcMonths } from '../lint/crl/support.ts';
import {
  operationDigest,
  bringParticipant,
  lockAll,
  participantEvidence,
  type PassphraseSource,
} from '../people/participants.ts';
import { getCa } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { findTerminationNotice, insertTerminationNotice } from '../store/termination-notices.ts';
import { runRecordedAction } from '../operation/recorded-action.ts';

/** CPS 5.8: three months' notice. */
export const NOTICE_MONTHS = 3;

export interface TerminationNotice {
  id: number;
  caName: string;
  terminationDate: string;
  announcedAt: string;
  announcedBy: string;
}

const ANNOUNCE = 'ca.announce-termination';

export function terminationNotice(inst: Installation, caName: string): TerminationNotice | undefined {
  const r = findTerminationNotice(inst.db, caName);
  return (
    r && {
      id: r.id,
      caName: r.name,
      terminationDate: r.termination_date,
      announcedAt: r.announced_at,
      announcedBy: r.announced_by,
    }
  );
}

/** Records the notice of termination (CPS 5.8), by the Person Responsible. */
export async function announceTermination(
  inst: Installation,
  p: { caName: string; date: string; authoriser: string; passphrases: PassphraseSource },
): Promise<TerminationNotice> {
  const now = inst.clock.now();
  const announcedAt = now.toISOString();
  return runRecordedAction(inst, {
    action: ANNOUNCE,
    target: p.caName,
    check: () => noticeChecks(inst, p, now),
    ask: async ({ ca }, { refuse }) => {
      const digest = operationDigest({ kind: ANNOUNCE, ca: ca.name, terminationDate: p.date, at: announcedAt });
      const person = await bringParticipant(
        inst,
        p.authoriser,
        p.passphrases,
        `Person Responsible announcing the termination of ${ca.name}`,
        digest,
        { operation: ANNOUNCE, slot: 'authoriser' },
      );
      if (!person) refuse('AUTHENTICATION_REQUIRED', `${p.authoriser} (authoriser) did not authenticate`);
      lockAll([person]);
      return { digest, person: person! };
    },
    work: ({ ca, earliest }, { digest, person }, audit) => {
      const id = insertTerminationNotice(inst.db, {
        caId: ca.id,
        terminationDate: p.date,
        announcedAt,
        announcedBy: p.authoriser,
        details: { operationDigest: digest.toString('hex') },
      });
      audit({
        actor: p.authoriser,
        roles: person.operator.roles,
        details: {
          noticeId: id,
          terminationDate: p.date,
          earliestAllowed: earliest,
          ...participantEvidence(digest, [{ role: 'authoriser', p: person }]),
        },
      });
      return { id, caName: ca.name, terminationDate: p.date, announcedAt, announcedBy: p.authoriser };
    },
  });
}

/** The notice's checks (CPS 5.8): an active CA, a real date at least the notice period away, no notice yet. */
function noticeChecks(inst: Installation, p: { caName: string; date: string }, now: Date) {
  const ca = getCa(inst, p.caName);
  if (ca.status !== 'active')
    throw new CaError('CA_NOT_ACTIVE', `${ca.name} is ${ca.status}; only an active CA is terminated`);
  if (!isDay(p.date)) throw new CaError('DATE_INVALID', `--date ${p.date} is not a date YYYY-MM-DD`);
  const earliest = addUtcMonths(now, NOTICE_MONTHS).toISOString().slice(0, 10);
  if (p.date < earliest)
    throw new CaError(
      'NOTICE_PERIOD_TOO_SHORT',
      `${ca.name} can be terminated no sooner than ${earliest}: Subscribers are notified ${NOTICE_MONTHS} months before (CPS 5.8)`,
    );
  const existing = terminationNotice(inst, ca.name);
  if (existing)
    throw new CaError(
      'TERMINATION_ALREADY_ANNOUNCED',
      `the termination of ${ca.name} was announced on ${existing.announcedAt} for ${existing.terminationDate}`,
    );
  return { ca, earliest };
}

/** A real calendar day written YYYY-MM-DD (2027-02-30 is not one). */
function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
