/**
 * `rootca audit verify --state` (issue 14 item 4): the state tables answer to the audit log.
 * The hash chain proves the log was not changed; it says nothing about a row deleted from
 * `certificates` or added to `revocations` behind the program's back. CPS 5.4.1 records every
 * issuance, revocation, CRL, key and personnel change as an event, so each row of those tables
 * must have its event and each such event its row. A mismatch names both sides.
 *
 * Rows are matched to events by what the event records about them (a certificate's or CRL's
 * SHA-256, a key id, an operator name, a publication's version and digest), so it holds for
 * every action that makes them (root ceremony, issuance, renewal, re-key, revocation, CA end).
 */
import { successfulAuditEvents } from '../store/audit-events.ts';
import type { Db } from '../store/db.ts';
import {
  caKeyIdsForStateCheck,
  certificatesForStateCheck,
  crlsForStateCheck,
  operatorsForStateCheck,
  publicationsForStateCheck,
  revocationsForStateCheck,
} from '../store/state-check.ts';

export interface StateMismatch {
  /** The table side: `certificates #12 (ecc-rootca1 serial 3f…)`, or `(no row)`. */
  row: string;
  /** The log side: `event #46 certificate.issue`, or `(no event)`. */
  event: string;
  problem: string;
}

export interface StateCheck {
  ok: boolean;
  /** Rows and events looked at, per kind. */
  checked: Record<string, { rows: number; events: number }>;
  mismatches: StateMismatch[];
}

interface Event {
  seq: number;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** Every string and number anywhere in an event's details, as the rows are matched by them. */
function tokensOf(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (typeof value === 'number') into.add(String(value));
  else if (Array.isArray(value)) for (const v of value) tokensOf(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) tokensOf(v, into);
}

export function verifyStateAgainstLog(db: Db): StateCheck {
  return db.transaction(() => check(db)).deferred();
}

/** What every per-table check needs: the events, their tokens, and where to report what it finds. */
interface CheckContext {
  tokens: Map<string, number>;
  of: (...actions: string[]) => Event[];
  noEvent: (row: string, problem: string) => void;
  noRow: (e: Event, what: string, problem: string) => void;
  checked: StateCheck['checked'];
}

/** Certificates (CPS 5.4.1 "issuance"): every row's SHA-256 is in an event; every issuing event's certificate is a row. */
function checkCertificates(db: Db, { tokens, of, noEvent, noRow, checked }: CheckContext): void {
  const certs = certificatesForStateCheck(db);
  const certSha = new Set(certs.map((c) => c.sha256));
  for (const c of certs)
    if (!tokens.has(c.sha256))
      noEvent(
        `certificates #${c.id} (${c.ca} serial ${c.serial_hex})`,
        `no audit event records certificate sha256 ${c.sha256}`,
      );
  const certEvents = of('certificate.issue', 'ceremony.root-ca', 'ca.renew');
  for (const e of certEvents) {
    const sha = e.details.certificateSha256;
    if (typeof sha === 'string' && !certSha.has(sha))
      noRow(
        e,
        'certificates',
        `the event records certificate ${String(e.details.serial ?? '')} (sha256 ${sha}) but the certificates table does not hold it`,
      );
  }
  for (const e of of('ca.rekey')) {
    for (const c of (e.details.certificates as { sha256?: string; serial?: string }[] | undefined) ?? []) {
      if (c.sha256 && !certSha.has(c.sha256))
        noRow(
          e,
          'certificates',
          `the event records certificate ${c.serial ?? ''} (sha256 ${c.sha256}) but the certificates table does not hold it`,
        );
    }
  }
  checked.certificates = { rows: certs.length, events: certEvents.length };
}

/** Revocations: one 'certificate.revoke' event per row, by CA and serial. */
function checkRevocations(db: Db, { of, noEvent, noRow, checked }: CheckContext): void {
  const revs = revocationsForStateCheck(db);
  const revEvents = of('certificate.revoke').filter((e) => typeof e.details.serial === 'string');
  const revKey = (ca: string, serial: string) => `${ca}\u0000${serial.toLowerCase()}`;
  const revEventKeys = new Set(revEvents.map((e) => revKey(e.target, e.details.serial as string)));
  const revRowKeys = new Set(revs.map((r) => revKey(r.ca, r.serial_hex)));
  for (const r of revs)
    if (!revEventKeys.has(revKey(r.ca, r.serial_hex)))
      noEvent(
        `revocations of certificate #${r.certificate_id} (${r.ca} serial ${r.serial_hex}, ${r.reason})`,
        'no certificate.revoke event records this revocation',
      );
  for (const e of revEvents)
    if (!revRowKeys.has(revKey(e.target, e.details.serial as string)))
      noRow(
        e,
        'revocations',
        `the event revokes ${e.target} serial ${String(e.details.serial)} but the revocations table does not hold it`,
      );
  checked.revocations = { rows: revs.length, events: revEvents.length };
}

/** CRLs: by SHA-256. */
function checkCrls(db: Db, { of, noEvent, noRow, checked }: CheckContext): void {
  const crls = crlsForStateCheck(db);
  const crlSha = new Set(crls.map((c) => c.sha256));
  const crlEvents = of('crl.issued');
  const crlEventSha = new Set(crlEvents.map((e) => e.details.sha256));
  for (const c of crls)
    if (!crlEventSha.has(c.sha256))
      noEvent(`crls #${c.id} (${c.ca} CRL #${c.crl_number})`, `no crl.issued event records CRL sha256 ${c.sha256}`);
  for (const e of crlEvents)
    if (typeof e.details.sha256 === 'string' && !crlSha.has(e.details.sha256))
      noRow(
        e,
        'crls',
        `the event records ${e.target} CRL #${String(e.details.crlNumber)} but the crls table does not hold it`,
      );
  checked.crls = { rows: crls.length, events: crlEvents.length };
}

/** CA keys (CPS 6.1.1): each key id is in an event (the ceremony that made it). */
function checkKeys(db: Db, { tokens, of, noEvent, noRow, checked }: CheckContext): void {
  const keys = caKeyIdsForStateCheck(db);
  const keyIds = new Set(keys.map((k) => k.key_id));
  for (const k of keys) if (!tokens.has(k.key_id)) noEvent(`ca_keys ${k.key_id}`, 'no audit event records this key');
  const keyEvents = of('ceremony.root-ca', 'ca.rekey');
  for (const e of keyEvents)
    if (typeof e.details.keyId === 'string' && !keyIds.has(e.details.keyId))
      noRow(e, 'ca_keys', `the event made key ${e.details.keyId} but the ca_keys table does not hold it`);
  checked.keys = { rows: keys.length, events: keyEvents.length };
}

/** Operators (CPS 5.2, 5.3): every operator was added by an 'operator.add' event and vice versa. */
function checkOperators(db: Db, { of, noEvent, noRow, checked }: CheckContext): void {
  const ops = operatorsForStateCheck(db);
  const opEvents = of('operator.add');
  const added = new Set(opEvents.map((e) => e.target));
  const opNames = new Set(ops.map((o) => o.name));
  for (const o of ops)
    if (!added.has(o.name)) noEvent(`operators #${o.id} (${o.name})`, 'no operator.add event records this operator');
  for (const e of opEvents)
    if (!opNames.has(e.target))
      noRow(e, 'operators', `the event added operator ${e.target} but the operators table does not hold them`);
  checked.operators = { rows: ops.length, events: opEvents.length };
}

/** Publications: by version and digest. */
function checkPublications(db: Db, { of, noEvent, noRow, checked }: CheckContext): void {
  const pubs = publicationsForStateCheck(db);
  const pubEvents = of('publication.written');
  const pubKey = (v: unknown, sha: unknown) => `${String(v)}:${String(sha)}`;
  const pubEventKeys = new Set(pubEvents.map((e) => pubKey(e.details.version, e.details.sha256)));
  const pubRowKeys = new Set(pubs.map((p) => pubKey(p.version, p.sha256)));
  for (const p of pubs)
    if (!pubEventKeys.has(pubKey(p.version, p.sha256)))
      noEvent(
        `publications v${p.version}`,
        `no publication.written event records version ${p.version} with sha256 ${p.sha256}`,
      );
  for (const e of pubEvents)
    if (!pubRowKeys.has(pubKey(e.details.version, e.details.sha256)))
      noRow(
        e,
        'publications',
        `the event wrote publication v${String(e.details.version)} but the publications table does not hold it`,
      );
  checked.publications = { rows: pubs.length, events: pubEvents.length };
}

/** Matches every state table against the log, in a fixed order so the report is stable. */
function check(db: Db): StateCheck {
  const events = successfulAuditEvents(db).map(
    (e): Event => ({ seq: e.seq, action: e.action, target: e.target, details: safeJson(e.details) }),
  );
  const tokens = new Map<string, number>(); // token -> first event seq that mentions it
  for (const e of events) {
    const set = new Set<string>();
    tokensOf(e.details, set);
    for (const t of set) if (!tokens.has(t)) tokens.set(t, e.seq);
  }
  const of = (...actions: string[]) => events.filter((e) => actions.includes(e.action));
  const mismatches: StateMismatch[] = [];
  const checked: StateCheck['checked'] = {};
  const noEvent = (row: string, problem: string) => mismatches.push({ row, event: '(no event)', problem });
  const noRow = (e: Event, what: string, problem: string) =>
    mismatches.push({ row: `(no ${what} row)`, event: `event #${e.seq} ${e.action} ${e.target}`, problem });
  const ctx: CheckContext = { tokens, of, noEvent, noRow, checked };
  checkCertificates(db, ctx);
  checkRevocations(db, ctx);
  checkCrls(db, ctx);
  checkKeys(db, ctx);
  checkOperators(db, ctx);
  checkPublications(db, ctx);
  return { ok: mismatches.length === 0, checked, mismatches };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
