/**
 * The record of a CA's changeovers (CPS 5.6): which certificates each renewal or re-key made,
 * which key each certifies and which key signed it. The CA row always points at the current
 * key and certificate; everything older stays here and in `certificates` as history.
 */
import { PATHS } from '../publish/format.ts';
import type { Installation } from '../installation/installation.ts';
import { KIND_SUFFIX, type OwnCertificateKind } from './link-certificates.ts';

export interface ChangeoverCertificate {
  caName: string;
  kind: OwnCertificateKind;
  certificateId: number;
  serialHex: string;
  subjectKeyId: string;
  signerKeyId: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  der: Buffer;
  ceremonyId: number;
  createdAt: string;
}

interface Row {
  ca_name: string; kind: OwnCertificateKind; certificate_id: number; serial_hex: string; subject_key_id: string; signer_key_id: string;
  not_before: string; not_after: string; sha256: string; der: Buffer; ceremony_id: number; created_at: string;
}

/** Inside the completing transaction: a certificate of the CA itself, stored and listed as made by this changeover. */
export function recordOwnCertificate(inst: Installation, x: {
  caId: number; kind: OwnCertificateKind; serialHex: string; subject: string; notBefore: Date; notAfter: Date; sha256: string; der: Buffer;
  subjectKeyId: string; signerKeyId: string; replacesCertificateId: number; ceremonyId: number; now: string;
}): number {
  // Profile 'root': the CA's own certificate, never one it issued to someone (certificates.ts listIssued).
  const certificateId = Number(inst.db
    .prepare("INSERT INTO certificates (issuer_ca_id, serial_hex, profile, subject_text, not_before, not_after, sha256, der, created_at, details) VALUES (?,?,'root',?,?,?,?,?,?,?)")
    .run(x.caId, x.serialHex, x.subject, x.notBefore.toISOString(), x.notAfter.toISOString(), x.sha256, x.der, x.now, JSON.stringify({ changeover: x.kind, ceremonyId: x.ceremonyId })).lastInsertRowid);
  inst.db.prepare('INSERT INTO ca_changeover_certificates (ca_id, certificate_id, kind, subject_key_id, signer_key_id, replaces_certificate_id, ceremony_id, created_at) VALUES (?,?,?,?,?,?,?,?)')
    .run(x.caId, certificateId, x.kind, x.subjectKeyId, x.signerKeyId, x.replacesCertificateId, x.ceremonyId, x.now);
  return certificateId;
}

/** Every certificate the CA's changeovers made, oldest first. */
export function changeoverCertificates(inst: Installation, caName?: string): ChangeoverCertificate[] {
  const rows = inst.db.prepare(`SELECT c.name AS ca_name, h.kind, h.certificate_id, x.serial_hex, h.subject_key_id, h.signer_key_id, x.not_before, x.not_after, x.sha256, x.der, h.ceremony_id, h.created_at
    FROM ca_changeover_certificates h JOIN cas c ON c.id = h.ca_id JOIN certificates x ON x.id = h.certificate_id
    ${caName ? 'WHERE c.name = ?' : ''} ORDER BY h.id`).all(...(caName ? [caName] : [])) as Row[];
  return rows.map((r) => ({
    caName: r.ca_name, kind: r.kind, certificateId: r.certificate_id, serialHex: r.serial_hex, subjectKeyId: r.subject_key_id, signerKeyId: r.signer_key_id,
    notBefore: r.not_before, notAfter: r.not_after, sha256: r.sha256, der: r.der, ceremonyId: r.ceremony_id, createdAt: r.created_at,
  }));
}

/**
 * The link certificates relying parties still need (not yet expired), with the Repository
 * path they are meant to be served at: the newest of each kind at the stable
 * certs/NAME-oldwithnew.crt and certs/NAME-newwithold.crt, earlier ones (a CA re-keyed more
 * than once) at certs/NAME-oldwithnew-SERIAL.crt, so a relying party holding the first root
 * still reaches the newest key, and one holding the newest root reaches the first key's
 * certificates, one link per re-key (RFC 4210 4.4). For the publication file: they are CA
 * certificates of NAME.
 */
export function currentLinkCertificates(inst: Installation, caName?: string): (ChangeoverCertificate & { path: string })[] {
  const now = inst.clock.now().getTime();
  const links = changeoverCertificates(inst, caName).filter((c) => (c.kind === 'old-with-new' || c.kind === 'new-with-old') && Date.parse(c.notAfter) > now);
  const newest = new Map(links.map((c) => [`${c.caName}/${c.kind}`, c]));
  return links.map((c) => {
    const stable = newest.get(`${c.caName}/${c.kind}`) === c;
    return { ...c, path: PATHS.caCertificate(`${c.caName}${KIND_SUFFIX[c.kind]}${stable ? '' : `-${c.serialHex}`}`) };
  });
}

/** A key the CA used before a re-key, with the CA certificate it had then. */
export interface RetiredCaKey {
  keyId: string;
  /** ca_keys.status: 'retired' until destroyed. */
  status: string;
  /** The CA's certificate for that key when the re-key replaced it (what its certificates name as issuer). */
  certificateDer: Buffer;
  publicKeySpki: Buffer;
}

/** The CA's earlier keys, oldest first: the signer of each NewWithOld link, with the certificate that re-key replaced. */
export function retiredCaKeys(inst: Installation, caName: string): RetiredCaKey[] {
  return (inst.db.prepare(`SELECT h.signer_key_id AS key_id, k.status, x.der, k.public_key_spki
      FROM ca_changeover_certificates h JOIN cas c ON c.id = h.ca_id JOIN ca_keys k ON k.key_id = h.signer_key_id JOIN certificates x ON x.id = h.replaces_certificate_id
      WHERE c.name = ? AND h.kind = 'new-with-old' ORDER BY h.id`).all(caName) as { key_id: string; status: string; der: Buffer; public_key_spki: Buffer }[])
    .map((r) => ({ keyId: r.key_id, status: r.status, certificateDer: r.der, publicKeySpki: r.public_key_spki }));
}

/** A certificate of the CA itself: the root ceremony's first one, or what a changeover made. */
export interface OwnCertificate {
  kind: OwnCertificateKind | 'ceremony';
  serialHex: string;
  subject: string;
  sha256: string;
  der: Buffer;
  /** The one the CA row points at (what relying parties hold as the root now). */
  current: boolean;
}

/**
 * Every certificate of the CA itself, oldest first (profile 'root': the ceremony's, renewals,
 * NewWithNew, OldWithNew, NewWithOld). What any of the CA's keys signed finds its issuer here
 * by AKI (RFC 5280 4.2.1.1), current key or retired.
 */
export function ownCertificates(inst: Installation, caId: number): OwnCertificate[] {
  const rows = inst.db.prepare(`SELECT x.id, x.serial_hex, x.subject_text, x.sha256, x.der, h.kind, c.certificate_id AS current_id
      FROM certificates x JOIN cas c ON c.id = x.issuer_ca_id LEFT JOIN ca_changeover_certificates h ON h.certificate_id = x.id
      WHERE x.issuer_ca_id = ? AND x.profile = 'root' ORDER BY x.id`).all(caId) as
    { id: number; serial_hex: string; subject_text: string; sha256: string; der: Buffer; kind: OwnCertificateKind | null; current_id: number }[];
  return rows.map((r) => ({ kind: r.kind ?? 'ceremony', serialHex: r.serial_hex, subject: r.subject_text, sha256: r.sha256, der: r.der, current: r.id === r.current_id }));
}
