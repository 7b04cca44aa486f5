/**
 * The record of a CA's changeovers (CPS 5.6): which certificates each renewal or re-key made,
 * which key each certifies and which key signed it. The CA row always points at the current
 * key and certificate; everything older stays here and in `certificates` as history.
 */
import { PATHS } from '../publish/format.ts';
import type { Installation } from '../installation/installation.ts';
import { insertCaOwnCertificate } from '../store/certificates.ts';
import {
  insertChangeoverCertificate,
  listCaOwnCertificates,
  listChangeoverCertificates,
  listRetiredKeySigners,
} from '../store/ca-changeover-certificates.ts';
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

/** Inside the completing transaction: a certificate of the CA itself, stored and listed as made by this changeover. */
export function recordOwnCertificate(
  inst: Installation,
  x: {
    caId: number;
    kind: OwnCertificateKind;
    serialHex: string;
    subject: string;
    notBefore: Date;
    notAfter: Date;
    sha256: string;
    der: Buffer;
    subjectKeyId: string;
    signerKeyId: string;
    replacesCertificateId: number;
    ceremonyId: number;
    now: string;
  },
): number {
  // Profile 'root': the CA's own certificate, never one it issued to someone (certificates.ts listIssued).
  const certificateId = insertCaOwnCertificate(inst.db, {
    caId: x.caId,
    serialHex: x.serialHex,
    subject: x.subject,
    notBefore: x.notBefore.toISOString(),
    notAfter: x.notAfter.toISOString(),
    sha256: x.sha256,
    der: x.der,
    createdAt: x.now,
    details: { changeover: x.kind, ceremonyId: x.ceremonyId },
  });
  insertChangeoverCertificate(inst.db, {
    caId: x.caId,
    certificateId,
    kind: x.kind,
    subjectKeyId: x.subjectKeyId,
    signerKeyId: x.signerKeyId,
    replacesCertificateId: x.replacesCertificateId,
    ceremonyId: x.ceremonyId,
    createdAt: x.now,
  });
  return certificateId;
}

/** Every certificate the CA's changeovers made, oldest first. */
export function changeoverCertificates(inst: Installation, caName?: string): ChangeoverCertificate[] {
  return listChangeoverCertificates(inst.db, caName).map((r) => ({
    caName: r.ca_name,
    kind: r.kind,
    certificateId: r.certificate_id,
    serialHex: r.serial_hex,
    subjectKeyId: r.subject_key_id,
    signerKeyId: r.signer_key_id,
    notBefore: r.not_before,
    notAfter: r.not_after,
    sha256: r.sha256,
    der: r.der,
    ceremonyId: r.ceremony_id,
    createdAt: r.created_at,
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
export function currentLinkCertificates(
  inst: Installation,
  caName?: string,
): (ChangeoverCertificate & { path: string })[] {
  const now = inst.clock.now().getTime();
  const links = changeoverCertificates(inst, caName).filter(
    (c) => (c.kind === 'old-with-new' || c.kind === 'new-with-old') && Date.parse(c.notAfter) > now,
  );
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
  return listRetiredKeySigners(inst.db, caName).map((r) => ({
    keyId: r.key_id,
    status: r.status,
    certificateDer: r.der,
    publicKeySpki: r.public_key_spki,
  }));
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
  return listCaOwnCertificates(inst.db, caId).map((r) => ({
    kind: r.kind ?? 'ceremony',
    serialHex: r.serial_hex,
    subject: r.subject_text,
    sha256: r.sha256,
    der: r.der,
    current: r.id === r.current_id,
  }));
}
