/**
 * Writing the publication file: everything the online side serves — CA certificates,
 * current CRLs, current pre-signed OCSP responses, issued certificates — with a manifest
 * signed in a key session by the signer root's publication key, never by the root key itself
 * (BR 6.1.7; custody/delegated-signers.ts). An installation from before issue 15 moves over
 * by issuing that key once (`rootca publication-key issue`); its next publication uses it.
 * Only responses that still tell the truth are published: a 'good' response for a certificate revoked since, or an expired one, is left out and named.
 */
import type { InterruptedWork } from '../operation/durable-outputs.ts';
import { parseOcspResponse } from '../pki/ocsp.ts';
import type {
  CaCertificateMeta,
  CaStatus,
  CertificateMeta,
  DocumentMeta,
  Manifest,
  OcspResponseMeta,
} from '../publish/format.ts';
import { writePublication, type PublicationInput } from '../publish/write.ts';
import { getCa, listCas } from '../installation/cas.ts';
import { delegatedSigner } from '../custody/delegated-signers.ts';
import { delegatedOfSession, type DelegatedInSession } from './delegated-in-session.ts';
import { documentsForPublication, recordDocumentNotice, type DocumentNotice } from '../documents/documents.ts';
import { listIssued } from '../issuance/certificates.ts';
import type { Installation } from '../installation/installation.ts';
import { runOperation, type OperationContext } from '../operation/runner.ts';
import { insertPublication, nextPublicationVersion } from '../store/publications.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { currentLinkCertificates } from '../lifecycle/ca-certificate-history.ts';
import { previousKeyCrls } from './retired-keys.ts';
import { currentCrl, currentOcspResponses, issuedByKey } from './crl-and-ocsp.ts';
import { guardedBy, refuser } from '../operation/refusals.ts';

export interface PublishParams {
  signerCa: string;
  operator: string;
  witness: string;
  passphrases: PassphraseSource;
  out: string;
}

export interface PublishResult {
  version: number;
  path: string;
  sha256: string;
  items: number;
  warnings: string[];
  transcriptFile: string;
  /** The file could not be named after the commit (it waits as .partial for `ceremony resume`). */
  notes: string[];
  interrupted: InterruptedWork[];
}

const ACTION = 'publication.sign';

/**
 * What relying parties are told about a CA (CPS 5.7.3, 5.8): compromised or terminated as
 * recorded; any other stored state (e.g. a termination only announced) is still active.
 */
export function publishedCaStatus(stored: string): CaStatus {
  return stored === 'compromised' || stored === 'terminated' ? stored : 'active';
}

/** What would be published now, and what is missing. */
export function gatherPublication(
  inst: Installation,
  version: number,
): {
  input: Omit<PublicationInput, 'signerCa' | 'signerSerialHex'>;
  warnings: string[];
  noticed: DocumentNotice[];
} {
  const now = inst.clock.now();
  const warnings: string[] = [];
  const cas = listCas(inst);
  const certificates = listIssued(inst);
  const { documents, noticed } = documentsForPublication(inst, now);
  const input: Omit<PublicationInput, 'signerCa' | 'signerSerialHex'> = {
    installation: inst.config.installation.name,
    version,
    createdAt: now,
    baseUrl: inst.config.repository.baseUrl,
    cas: cas.map((c) => publishedCa(inst, c, now, warnings)),
    certificates: certificates.map(publishedCertificate),
    // Re-keyed CAs: the link certificates, so either root reaches certificates of either key (CPS 5.6).
    links: cas.flatMap((c) =>
      currentLinkCertificates(inst, c.name).map((l) => ({
        ca: c.name,
        path: l.path,
        der: l.der,
        meta: {
          subject: c.subject,
          notBefore: l.notBefore,
          notAfter: l.notAfter,
          fingerprint: l.sha256,
          status: publishedCaStatus(c.status),
        },
      })),
    ),
    previousKeyCrls: cas.flatMap((c) => previousKeyCrls(inst, c, certificates, warnings)),
    ocspResponses: [],
    documents,
  };
  input.ocspResponses.push(...publishedOcspResponses(inst, cas, certificates, now, warnings));
  return { input, warnings, noticed };
}

type StoredCa = ReturnType<typeof listCas>[number];
type StoredCertificate = ReturnType<typeof listIssued>[number];

/** One CA as published: its certificate, status and current CRL; a missing or expired CRL is warned about. */
function publishedCa(inst: Installation, c: StoredCa, now: Date, warnings: string[]): PublicationInput['cas'][number] {
  const crl = currentCrl(inst, c.id);
  if (!crl) warnings.push(`${c.name} has no CRL yet: run rootca crl issue --ca ${c.name}`);
  else if (Date.parse(crl.nextUpdate) < now.getTime())
    warnings.push(`${c.name}'s CRL #${crl.crlNumber} expired on ${crl.nextUpdate}`);
  const meta: CaCertificateMeta = {
    subject: c.subject,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    fingerprint: c.certificateSha256,
    status: publishedCaStatus(c.status),
  };
  return {
    name: c.name,
    certificateDer: c.certificateDer,
    meta,
    ...(crl
      ? {
          crl: {
            der: crl.der,
            meta: { crlNumber: String(crl.crlNumber), thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate },
          },
        }
      : {}),
  };
}

/** One issued certificate as published, good or revoked with its date and reason. */
function publishedCertificate(c: StoredCertificate): PublicationInput['certificates'][number] {
  const meta: CertificateMeta = {
    serialHex: c.serialHex,
    subject: c.subject,
    profile: c.profile,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    status: c.revocation ? 'revoked' : 'good',
    ...(c.revocation ? { revokedAt: c.revocation.revokedAt, reason: c.revocation.reason } : {}),
  };
  return { ca: c.caName, der: c.der, meta };
}

/**
 * The pre-signed OCSP responses fit to publish, SHA-1 and SHA-256 for every certificate; a
 * missing, contradicting or expired one is left out with a warning.
 */
function publishedOcspResponses(
  inst: Installation,
  cas: StoredCa[],
  certificates: StoredCertificate[],
  now: Date,
  warnings: string[],
): PublicationInput['ocspResponses'] {
  const byId = new Map(certificates.map((c) => [c.id, c]));
  const out: PublicationInput['ocspResponses'] = [];
  for (const ca of cas) {
    const responses = currentOcspResponses(inst, ca.id);
    for (const cert of certificates.filter((c) => c.caId === ca.id)) {
      // A certificate of a key retired at a re-key is answered by that key (status/retired-keys.ts).
      const retired = issuedByKey(cert.der, ca) ? '' : ' --retired-key';
      for (const hash of ['sha1', 'sha256'] as const) {
        const r = responses.find((x) => x.certificateId === cert.id && x.hash === hash);
        const truth = cert.revocation ? 'revoked' : 'good';
        if (!r)
          warnings.push(
            `${ca.name} ${cert.serialHex}: no pre-signed ${hash} OCSP response (run rootca ocsp presign --ca ${ca.name}${retired})`,
          );
        else if (r.status !== truth)
          warnings.push(
            `${ca.name} ${cert.serialHex}: the pre-signed response says ${r.status} but the certificate is ${truth}; left out (re-sign it)`,
          );
        else if (Date.parse(r.nextUpdate) < now.getTime())
          warnings.push(
            `${ca.name} ${cert.serialHex}: the pre-signed ${hash} response expired on ${r.nextUpdate}; left out`,
          );
        else if (parseOcspResponse(r.der).certs.length === 0)
          // Signed by the root key itself (before issue 15): the online side refuses it (BR 6.1.7).
          warnings.push(
            `${ca.name} ${cert.serialHex}: the pre-signed ${hash} response is signed by the root key, not its responder; left out (run rootca ocsp presign --ca ${ca.name}${retired})`,
          );
        else {
          const meta: OcspResponseMeta = {
            serialHex: byId.get(r.certificateId)!.serialHex,
            certIdKey: r.certIdKey,
            hashAlgorithm: hash,
            status: r.status,
            thisUpdate: r.thisUpdate,
            nextUpdate: r.nextUpdate,
          };
          out.push({ ca: ca.name, der: r.der, meta });
        }
      }
    }
  }
  return out;
}

/** The documents' versions and digests as the audit event records them (R-10.1). */
function documentDigests(m: Manifest): { path: string; version: string; sha256: string }[] {
  return m.items
    .filter((i) => i.kind === 'document')
    .map((i) => ({ path: i.path, version: (i.meta as DocumentMeta).version, sha256: i.sha256 }));
}

/**
 * Signs the manifest once, stages the file and records version, document notice, audit event
 * and ceremony in one transaction (`complete` there; the status ceremony passes its own).
 */
export async function writeAndRecordPublication(
  inst: Installation,
  version: number,
  signer: DelegatedInSession,
  { session: s, files, complete }: OperationContext,
) {
  const path = files.planned[0]!.path;
  const { input, warnings, noticed } = gatherPublication(inst, version);
  const { algorithm } = signer;
  const signed = { signerCa: s.ca.name, signerSerialHex: signer.info.serialHex };
  const written = await writePublication({ ...input, ...signed }, async (bytes) => ({
    algorithm,
    signature: await signer.sign(bytes, `publication v${version} manifest`),
  }));
  // Staged before the commit, named after it: a version number is never handed out twice,
  // and a recorded version always has its file (or its .partial, for `ceremony resume`).
  files.stage(path, written.bytes);
  const items = written.manifest.items.length;
  inst.db
    .transaction(() => {
      insertPublication(inst.db, {
        version,
        createdAt: written.manifest.createdAt,
        signerCa: s.ca.name,
        sha256: written.sha256,
        items,
        ceremonyId: s.ceremonyId,
      });
      // The first publication that carries a document version is its notice: the claim period starts (CPS 9.12.2).
      recordDocumentNotice(inst, version, input.createdAt, noticed);
      inst.audit.append({
        actor: s.operator.operator.name,
        roles: s.operator.operator.roles,
        action: 'publication.written',
        target: s.ca.name,
        outcome: 'success',
        details: {
          version,
          sha256: written.sha256,
          items,
          keyId: signer.keyId,
          signerSerial: signer.info.serialHex,
          documents: documentDigests(written.manifest),
          warnings,
          path,
          ceremonyId: s.ceremonyId,
          ...s.evidence(),
        },
      });
      complete({
        inputs: [],
        outputs: [{ name: `publication v${version}`, sha256: written.sha256 }],
        details: { version, items, warnings, keyActivations: s.activations },
      });
    })
    .immediate();
  return { path, sha256: written.sha256, items, warnings };
}

/**
 * `rootca publish`: the publication file signed by the root's publication key on the runner
 * (operation/runner.ts); no backup follows. DELEGATED_KEY_MISSING (audited, before anyone
 * authenticates) when the root has no publication key in date.
 */
export async function publish(inst: Installation, p: PublishParams): Promise<PublishResult> {
  return runOperation(inst, {
    action: ACTION,
    target: p.signerCa,
    backup: false,
    check: () => ({
      version: nextPublicationVersion(inst.db),
      signer: guardedBy(refuser(inst, ACTION, p.signerCa))(() =>
        delegatedSigner(inst, getCa(inst, p.signerCa), 'publication', inst.clock.now()),
      ),
    }),
    outputs: () => [{ path: p.out, what: '--out' }],
    people: ({ version, signer }) => ({
      caName: p.signerCa,
      operator: p.operator,
      witness: p.witness,
      passphrases: p.passphrases,
      delegatedKeyId: signer.keyId,
      describe: { version, keyId: signer.keyId },
    }),
    work: ({ version, signer }, ctx) =>
      writeAndRecordPublication(inst, version, delegatedOfSession(ctx.session, signer), ctx),
    // Committed: from here a problem is a note, never a failure (the version exists).
    finish: ({ version }, w, after) => {
      const notes = after.published.pending.map(
        (q) =>
          `OUTPUT NOT WRITTEN ${q.path}: ${q.reason}; publication v${version} is recorded — write it with rootca ceremony resume ${after.ceremonyId}`,
      );
      return {
        version,
        ...w,
        transcriptFile: after.transcriptFile,
        notes: [...notes, ...after.notes],
        interrupted: after.interrupted,
      };
    },
  });
}
