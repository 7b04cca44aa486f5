/**
 * What is due, and when (issue 16 item 1): per CA, the current CRL's nextUpdate and the date its
 * re-signing is due (`crl.renewBeforeDays` before it), the earliest nextUpdate among the
 * pre-signed OCSP responses, every responder and publication certificate's expiry, revocations
 * not yet in a published CRL, and changeover; the open document claim periods. An item past
 * its date is an error, one within its margin a warning.
 *
 * BR 4.9.7 (CPS 4.9.7): a root's CRL is updated "at least every twelve months" and "within 24
 * hours after revoking a Subordinate CA Certificate"; BR 4.9.10 (CPS 4.9.9): OCSP for
 * subordinate CA certificates "at least every twelve months" and within 24 hours of a revocation.
 */
import { getCa, listCas, type CaSummary } from '../installation/cas.ts';
import type { Installation } from '../installation/installation.ts';
import { listIssued, type IssuedCertificate } from '../issuance/certificates.ts';
import { listDocumentVersions } from '../documents/versions.ts';
import { changeoverStateOf, type ChangeoverState } from '../lifecycle/changeover.ts';
import { parseCrl } from '../pki/crl.ts';
import { crlsNewestFirst } from '../store/crls.ts';
import { latestPublicationTime } from '../store/publications.ts';
import { currentCrl, currentOcspResponses, issuedByKey } from './crl-and-ocsp.ts';
import { recertifiableKey } from '../custody/delegated-signers.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** ok: nothing to do yet; warning: within its margin; error: overdue (or missing). */
export type DueLevel = 'ok' | 'warning' | 'error';

const RANK: Record<DueLevel, number> = { ok: 0, warning: 1, error: 2 };

/** The worse of levels. */
export function worst(levels: DueLevel[]): DueLevel {
  return levels.reduce<DueLevel>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');
}

/** One thing with a date: a CRL, the OCSP responses, a certificate, a revocation, a claim period, changeover. */
export interface DueItem {
  kind: 'crl' | 'ocsp' | 'certificate' | 'revocation' | 'document-claims' | 'changeover';
  /** What it is, for people ("CRL #4", "ocsp certificate 1A2B (CN=…)"). */
  what: string;
  /** When it runs out: nextUpdate, notAfter, the end of the 24 hours after a revocation. */
  expires: string | null;
  /** When re-signing is due: `expires` less the configured margin. */
  dueAt: string | null;
  level: DueLevel;
  /** Why, and what to do. */
  message: string;
}

/** A CA's due items, with the certificates whose OCSP responses are to be re-signed. */
export interface CaDue {
  ca: string;
  status: string;
  level: DueLevel;
  items: DueItem[];
  changeover: ChangeoverState;
  /** What a status ceremony would sign for this CA (status/status-ceremony.ts). */
  work: StatusWork;
}

/** What is due for signing: the CRL, which certificates' OCSP responses, and whether a publication is. */
export interface StatusWork {
  /** Why a new CRL is due, or null. */
  crl: string | null;
  /** Certificates of the CA's current key whose pre-signed responses are missing, wrong, expired or within the margin. */
  ocsp: { certificate: IssuedCertificate; why: string }[];
  /** Certificates of a key retired at a re-key whose responses are due: `rootca ocsp presign --retired-key`. */
  retiredKey: string[];
  /** Responder and publication certificates within their margin (a status ceremony issues successors for the keys it holds). */
  certificates: IssuedCertificate[];
  /** Something signed is not yet in a publication file (or is about to be). */
  publication: string | null;
}

/** Every CA's due items and the documents' claim periods, with the overall level. */
export interface StatusReport {
  at: string;
  level: DueLevel;
  cas: CaDue[];
  documents: DueItem[];
}

/** The level of something that runs out at `expires`, due `marginMs` before it. */
function levelAt(now: number, expires: number, marginMs: number): DueLevel {
  if (now >= expires) return 'error';
  return now >= expires - marginMs ? 'warning' : 'ok';
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The status report of every CA, or of one (CA_UNKNOWN for a name that is not there). */
export function statusReport(inst: Installation, caName?: string): StatusReport {
  const cas = caName === undefined ? listCas(inst) : [getCa(inst, caName)];
  const dues = cas.map((c) => caDue(inst, c));
  const documents = caName === undefined ? claimPeriods(inst) : [];
  return {
    at: inst.clock.now().toISOString(),
    level: worst(dues.map((d) => d.level)),
    cas: dues,
    documents,
  };
}

/** One CA's due items. A CA that is not active signs nothing: only its changeover line is shown. */
export function caDue(inst: Installation, ca: CaSummary): CaDue {
  const changeover = changeoverStateOf(inst, ca);
  const work: StatusWork = { crl: null, ocsp: [], retiredKey: [], certificates: [], publication: null };
  const items: DueItem[] = [changeoverItem(changeover)];
  if (ca.status === 'active') {
    const now = inst.clock.now().getTime();
    const issued = listIssued(inst, ca.name);
    const crl = currentCrl(inst, ca.id);
    const responses = currentOcspResponses(inst, ca.id);
    const published = publishedCrl(inst, ca, crl, responses);
    items.unshift(
      crlItem(inst, ca, crl, now, work),
      ...revocationItems(inst, issued, { current: serialsOf(crl?.der), published: published.serials }, now, work),
      ocspItem(inst, ca, issued, responses, now, work),
      ...certificateItems(inst, ca, issued, now, work),
    );
    if (work.crl || work.ocsp.length) work.publication = 'what this ceremony signs';
    else if (published.unpublished) work.publication = published.unpublished;
  }
  return { ca: ca.name, status: ca.status, level: worst(items.map((i) => i.level)), items, changeover, work };
}

type CurrentCrl = ReturnType<typeof currentCrl>;

function crlItem(inst: Installation, ca: CaSummary, crl: CurrentCrl, now: number, work: StatusWork): DueItem {
  if (!crl) {
    work.crl = 'the CA has no CRL';
    return {
      kind: 'crl',
      what: 'CRL',
      expires: null,
      dueAt: null,
      level: 'error',
      message: `${ca.name} has no CRL (BR 4.9.7): run rootca status ceremony ${ca.name}`,
    };
  }
  const expires = Date.parse(crl.nextUpdate);
  const margin = inst.config.crl.renewBeforeDays * DAY;
  const level = levelAt(now, expires, margin);
  if (level !== 'ok')
    work.crl = level === 'error' ? `CRL #${crl.crlNumber} expired` : `CRL #${crl.crlNumber} expires soon`;
  return {
    kind: 'crl',
    what: `CRL #${crl.crlNumber}`,
    expires: crl.nextUpdate,
    dueAt: iso(expires - margin),
    level,
    message:
      level === 'error'
        ? `expired at ${crl.nextUpdate}: relying parties have no valid CRL (BR 4.9.7)`
        : level === 'warning'
          ? `re-signing due since ${iso(expires - margin)} (${inst.config.crl.renewBeforeDays} days before nextUpdate)`
          : `re-signing due at ${iso(expires - margin)}`,
  };
}

const serialsOf = (der: Buffer | undefined) =>
  new Set(der ? parseCrl(der).entries.map((e) => e.serialHex.toLowerCase()) : []);

/**
 * The serials in the CA's CRL that the newest publication file carries (its newest CRL made
 * before that file), and why a publication is due when the current CRL or a pre-signed
 * response is newer (e.g. signed by a status ceremony a crash stopped before its publication).
 */
function publishedCrl(
  inst: Installation,
  ca: CaSummary,
  current: CurrentCrl,
  responses: Responses,
): { serials: Set<string>; unpublished: string | null } {
  const publishedAt = latestPublicationTime(inst.db);
  if (publishedAt === undefined)
    return {
      serials: new Set(),
      unpublished: current || responses.length ? 'no publication file has been made' : null,
    };
  let serials = new Set<string>();
  for (const r of crlsNewestFirst(inst.db, ca.id)) {
    if (Date.parse(r.this_update) > Date.parse(publishedAt)) continue;
    serials = serialsOf(r.der);
    break;
  }
  const newer = (t: string) => Date.parse(t) > Date.parse(publishedAt);
  const unpublished =
    current && newer(current.thisUpdate)
      ? `CRL #${current.crlNumber} is in no publication file yet`
      : responses.some((r) => newer(r.thisUpdate))
        ? 'pre-signed OCSP responses are in no publication file yet'
        : null;
  return { serials, unpublished };
}

/** Revocations not in a published CRL: a warning for the first `revocationPublishHours`, then an error. */
function revocationItems(
  inst: Installation,
  issued: IssuedCertificate[],
  crls: { current: Set<string>; published: Set<string> },
  now: number,
  work: StatusWork,
): DueItem[] {
  const hours = inst.config.status.revocationPublishHours;
  return issued
    .filter((c) => c.revocation && !crls.published.has(c.serialHex.toLowerCase()))
    .map((c) => {
      const expires = Date.parse(c.revocation!.revokedAt) + hours * HOUR;
      if (!crls.current.has(c.serialHex.toLowerCase()))
        work.crl = `${c.serialHex} revoked at ${c.revocation!.revokedAt}`;
      return {
        kind: 'revocation' as const,
        what: `revocation of ${c.serialHex} (${c.subject})`,
        expires: iso(expires),
        dueAt: c.revocation!.revokedAt,
        level: now >= expires ? ('error' as const) : ('warning' as const),
        message: `revoked at ${c.revocation!.revokedAt} and in no published CRL; due within ${hours} hours (BR 4.9.7, CPS 4.9.7)`,
      };
    });
}

/** Why a certificate's pre-signed responses are due, or null when both are good for longer than the margin. */
type Responses = ReturnType<typeof currentOcspResponses>;

function ocspWhy(
  cert: IssuedCertificate,
  responses: Responses,
  now: number,
  margin: number,
): { why: string; level: DueLevel } | null {
  const truth = cert.revocation ? 'revoked' : 'good';
  const mine = responses.filter((r) => r.certificateId === cert.id);
  if (mine.length < 2) return { why: 'no pre-signed response', level: 'error' };
  if (mine.some((r) => r.status !== truth)) return { why: `a response says good but it is ${truth}`, level: 'error' };
  const earliest = Math.min(...mine.map((r) => Date.parse(r.nextUpdate)));
  const level = levelAt(now, earliest, margin);
  if (level === 'ok') return null;
  return { why: level === 'error' ? `expired at ${iso(earliest)}` : `expires at ${iso(earliest)}`, level };
}

/** The earliest nextUpdate of the CA's pre-signed responses, and which certificates need new ones. */
function ocspItem(
  inst: Installation,
  ca: CaSummary,
  issued: IssuedCertificate[],
  responses: Responses,
  now: number,
  work: StatusWork,
): DueItem {
  const margin = inst.config.ocsp.renewBeforeDays * DAY;
  // An expired certificate needs no fresh answers: path validation refuses it first (RFC 5280 6.1.3 (a)(2)).
  const live = issued.filter((c) => Date.parse(c.notAfter) > now);
  const levels: DueLevel[] = [];
  const liveIds = new Set(live.map((c) => c.id));
  for (const cert of live) {
    const due = ocspWhy(cert, responses, now, margin);
    if (!due) continue;
    levels.push(due.level);
    if (issuedByKey(cert.der, ca)) work.ocsp.push({ certificate: cert, why: due.why });
    else work.retiredKey.push(cert.serialHex);
  }
  const nextUpdates = responses.filter((r) => liveIds.has(r.certificateId)).map((r) => Date.parse(r.nextUpdate));
  const earliest = nextUpdates.length ? Math.min(...nextUpdates) : null;
  const level = worst(levels);
  const parts = [
    work.ocsp.length
      ? `${work.ocsp.length} certificate(s) to re-sign (${work.ocsp.map((o) => `${o.certificate.serialHex}: ${o.why}`).join('; ')})`
      : '',
    work.retiredKey.length
      ? `${work.retiredKey.join(', ')} of a retired key: rootca ocsp presign --ca ${ca.name} --retired-key`
      : '',
  ].filter(Boolean);
  return {
    kind: 'ocsp',
    what: `pre-signed OCSP responses (${live.length} certificate(s))`,
    expires: earliest === null ? null : iso(earliest),
    dueAt: earliest === null ? null : iso(earliest - margin),
    level,
    message: parts.length
      ? parts.join('; ')
      : live.length
        ? 'every response good for longer than the margin'
        : 'no live certificates',
  };
}

/**
 * Delegated responder (`ocsp`) and publication certificates: the newest of each subject, by its
 * expiry; the status ceremony issues a successor for a key it can re-certify.
 */
function certificateItems(
  inst: Installation,
  ca: CaSummary,
  issued: IssuedCertificate[],
  now: number,
  work: StatusWork,
): DueItem[] {
  const margin = inst.config.status.certificateRenewBeforeDays * DAY;
  const newest = new Map<string, IssuedCertificate>();
  for (const c of issued.filter((x) => !x.revocation && (x.profile === 'ocsp' || x.profile === 'publication'))) {
    const key = `${c.profile}\0${c.subject}`;
    const seen = newest.get(key);
    if (!seen || Date.parse(c.notAfter) > Date.parse(seen.notAfter)) newest.set(key, c);
  }
  const items = [...newest.values()].map((c): DueItem => {
    const expires = Date.parse(c.notAfter);
    const level = levelAt(now, expires, margin);
    if (level !== 'ok') work.certificates.push(c);
    const key = level === 'ok' ? null : recertifiableKey(inst, ca, c);
    const todo = !key
      ? ''
      : 'why' in key
        ? `${key.why}: ${key.command}`
        : `rootca status ceremony ${ca.name} issues its successor`;
    return {
      kind: 'certificate',
      what: `${c.profile} certificate ${c.serialHex} (${c.subject})`,
      expires: c.notAfter,
      dueAt: iso(expires - margin),
      level,
      message:
        level === 'error'
          ? `expired at ${c.notAfter}: ${todo}`
          : level === 'warning'
            ? `expires at ${c.notAfter}: ${todo}`
            : `renewal due at ${iso(expires - margin)}`,
    };
  });
  // A root key signs no OCSP response and no publication (BR 6.1.7): without these keys neither can be made.
  for (const [profile, command] of [
    ['ocsp', 'rootca ocsp responder issue'],
    ['publication', 'rootca publication-key issue'],
  ] as const)
    if (!items.some((i) => i.what.startsWith(`${profile} `)))
      items.push({
        kind: 'certificate',
        what: `${profile} certificate`,
        expires: null,
        dueAt: null,
        level: 'error',
        message: `no delegated ${profile === 'ocsp' ? 'responder' : 'publication'} certificate: ${command} --ca CA`,
      });
  return items;
}

function changeoverItem(s: ChangeoverState): DueItem {
  const expired = s.status === 'active' && s.remainingDays < 0;
  return {
    kind: 'changeover',
    what: 'changeover',
    expires: s.notAfter,
    dueAt: null,
    level: expired ? 'error' : s.changeoverDue ? 'warning' : 'ok',
    message: s.advice,
  };
}

/** Published document versions whose claim period (CPS 9.12.2) is still open. */
function claimPeriods(inst: Installation): DueItem[] {
  const now = inst.clock.now().getTime();
  return listDocumentVersions(inst)
    .filter((v) => v.claimsUntil && Date.parse(v.claimsUntil) > now)
    .map((v) => ({
      kind: 'document-claims' as const,
      what: `${v.name} ${v.version}`,
      expires: v.claimsUntil,
      dueAt: null,
      level: 'ok' as const,
      message: `claim period open until ${v.claimsUntil} (${v.claims.length} claim(s); CPS 9.12.2)`,
    }));
}
